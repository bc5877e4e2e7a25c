// A CI step in Node: the official openai client against a running mockgw (MOCKGW_URL), then the verdict
// from GET /__mockgw/problems, the single truth for "should this job fail".
import OpenAI from "openai";

const url = process.env.MOCKGW_URL ?? "http://127.0.0.1:8080";
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: process.env.MOCKGW_API_KEY ?? "sk-ci", maxRetries: 0 });

// The application under test; here one request that no fixture scripts.
try {
  const answer = await client.chat.completions.create({
    model: "openai/gpt-4o",
    messages: [{ role: "user", content: "nobody scripted this" }],
  });
  console.log(`the client got: ${answer.choices[0].message.content}`);
} catch (error) {
  console.log(`the client got ${error.status}`);
}

const { problems } = await (await fetch(`${url}/__mockgw/problems`)).json();
if (problems.length > 0) {
  console.error(`mockgw saw ${problems.length} problem(s):\n${problems.join("\n")}`);
  process.exit(1);
}
console.log("mockgw saw no problems");
