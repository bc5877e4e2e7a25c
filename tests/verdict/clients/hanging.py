"""A client with no timeout of its own (the openai SDK's default is 10 minutes) that also starts a worker process:
under a hang it never ends, and the verdict must kill it and its worker. The worker writes its pid to $WORKER_PID_FILE.
"""

import os
import subprocess
import sys

import openai

worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with open(os.environ["WORKER_PID_FILE"], "a") as file:
    file.write(f"{worker.pid}\n")
client = openai.OpenAI(max_retries=0)
reply = client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])
print(reply.choices[0].message.content)
worker.kill()
