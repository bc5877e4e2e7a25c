"""Format-neutral data every layer shares: the conversation, the reply, tokens, errors, stream framing."""
