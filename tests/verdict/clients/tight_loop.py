"""A client that retries in a tight loop: no wait, no limit, Retry-After ignored."""

import openai

client = openai.OpenAI(max_retries=0)
while True:
    try:
        reply = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])
        break
    except openai.APIError:
        continue
print(reply.choices[0].message.content)
