#!/usr/bin/python3
# pty_answer.py PROMPT ANSWER [PROMPT ANSWER ...] -- CMD ARGS...
#
# Runs CMD on a new pseudo-terminal (its stdin, stdout and stderr), waits
# for each PROMPT in what it writes and types ANSWER and Enter only then
# (typing earlier would race the program's switching echo off). Prints
# everything the terminal showed, then exits with CMD's exit status.
import os, pty, select, sys, time

args = sys.argv[1:]
sep = args.index('--')
pairs, cmd = args[:sep], args[sep + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
seen = b''
deadline = time.time() + 30
def read_some():
    global seen
    r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
    if not r:
        return False
    try:
        data = os.read(fd, 4096)
    except OSError:
        return False
    if not data:
        return False
    seen += data
    return True
for i in range(0, len(pairs), 2):
    prompt, answer = pairs[i].encode(), pairs[i + 1].encode()
    while prompt not in seen:
        if not read_some():
            break
    seen = seen.replace(prompt, b'<' + prompt + b'>', 1)
    time.sleep(0.1)
    os.write(fd, answer + b'\n')
while read_some():
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode('utf-8', 'replace'))
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128)
