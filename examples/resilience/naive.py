"""The support bot, written the quick way: the openai SDK with no retries, and whatever the stream gives is the answer.

Run it under `mockgw verdict` (which sets OPENAI_BASE_URL and OPENAI_API_KEY): see README.md.
"""

import openai

QUESTION = "When are you open?"


def main() -> None:
    client = openai.OpenAI(max_retries=0)
    stream = client.chat.completions.create(
        model="openai/gpt-4o", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    answer = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    print(f"bot: {answer}")


if __name__ == "__main__":
    main()
