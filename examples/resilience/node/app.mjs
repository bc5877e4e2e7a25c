// The support bot in Node: the official `openai` package with its own retries (2) and a 2 s timeout.
// OPENAI_BASE_URL and OPENAI_API_KEY come from `mockgw verdict` (or the pytest plugin).
import OpenAI from "openai";

const client = new OpenAI({ timeout: Number(process.env.NODE_APP_TIMEOUT_MS ?? 2000) });
const stream = await client.chat.completions.create({
  model: "openai/gpt-4o",
  messages: [{ role: "user", content: "When are you open?" }],
  stream: true,
});
let answer = "";
for await (const chunk of stream) {
  answer += chunk.choices[0]?.delta?.content ?? "";
}
console.log(`bot: ${answer}`);
