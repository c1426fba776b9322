"""pipe_hold.py OUT: reads standard input (a pipe) by splice(2) into pipes of its own, holding every page
it takes until the input ends, then writes what they hold to OUT. A writer that wrote into a page after
giving it to its pipe would show here as changed bytes: a reader that copies (read(2)) has long taken
the bytes when the writer comes back to the page, one that splices still holds it."""
import fcntl, os, select, sys

F_SETPIPE_SZ = 1031
held = []


def new_pipe():
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass
    held.append((r, w))
    return w


w = new_pipe()
while True:
    select.select([0], [], [])
    try:
        n = os.splice(0, w, 1 << 20, flags=os.SPLICE_F_NONBLOCK)
    except BlockingIOError:
        if not select.select([], [w], [], 0)[1]:  # this pipe is full: hold the next pages in another
            w = new_pipe()
        continue
    if n == 0:
        break
with open(sys.argv[1], "wb") as out:
    for r, w in held:
        os.close(w)
        while True:
            b = os.read(r, 1 << 20)
            if not b:
                break
            out.write(b)
