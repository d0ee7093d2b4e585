#!/usr/bin/env python3
# A stand-in for fusermount3 for the tests: mounts with mount(2) (we are root) and sends the /dev/fuse
# descriptor back over the socket named by _FUSE_COMMFD, the way fusermount3 does.
import ctypes, os, socket, sys

libc = ctypes.CDLL(None, use_errno=True)
args = sys.argv[1:]
if args[0] == "-u":
    if libc.umount2(args[-1].encode(), 2) != 0:
        print("umount2: " + os.strerror(ctypes.get_errno()), file=sys.stderr)
        sys.exit(1)
    sys.exit(0)

opts = args[args.index("-o") + 1].split(",")
mountpoint = args[-1]
named = dict(o.split("=", 1) for o in opts if "=" in o)
fd = os.open("/dev/fuse", os.O_RDWR)
data = f"fd={fd},rootmode=40000,user_id={os.geteuid()},group_id={os.getegid()}"
for flag in ("default_permissions", "allow_other"):
    if flag in opts:
        data += "," + flag
flags = (1 if "ro" in opts else 0) | (2 if "nosuid" in opts else 0) | (4 if "nodev" in opts else 0)
if libc.mount(named["fsname"].encode(), mountpoint.encode(), ("fuse." + named["subtype"]).encode(),
              ctypes.c_ulong(flags), data.encode()) != 0:
    print("mount: " + os.strerror(ctypes.get_errno()), file=sys.stderr)
    sys.exit(1)
sock = socket.socket(fileno=int(os.environ["_FUSE_COMMFD"]))
socket.send_fds(sock, [b"\0"], [fd])
