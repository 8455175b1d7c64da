# -m owner: the socket's user and group (libxt_owner.c revision 1, xt_owner.c)
# Names are looked up in /etc/passwd and /etc/group and saved as numbers.
:OUTPUT
-m owner --uid-owner 0;=;OK
-m owner --uid-owner root;-m owner --uid-owner 0;OK
-m owner --gid-owner daemon;-m owner --gid-owner 1;OK
-m owner ! --uid-owner 1000-2000;=;OK
-m owner --uid-owner 1000:2000;-m owner --uid-owner 1000-2000;OK
-m owner --gid-owner 0x10;-m owner --gid-owner 16;OK
-m owner --uid-owner 1-1;-m owner --uid-owner 1;OK
-m owner --uid-owner 4294967294;=;OK
-m owner --socket-exists;=;OK
-m owner --gid-owner 5 ! --socket-exists ! --uid-owner 7;-m owner ! --socket-exists ! --uid-owner 7 --gid-owner 5;OK
-m owner --gid-owner 27 --suppl-groups;=;OK
-m owner --uid-owner 4294967295;;FAIL
-m owner --uid-owner 5-;;FAIL
-m owner --uid-owner 1-2-3;;FAIL
-m owner --uid-owner no-such-user-here;;FAIL
# the kernel refuses a reversed range
-m owner --uid-owner 2000-1000;;FAIL
-m owner --uid-owner 0 --uid-owner 1;;FAIL
-m owner --gid-owner 27 ! --suppl-groups;;FAIL
-m owner --suppl-groups --gid-owner 27;;FAIL
-m owner --suppl-groups;;FAIL
-m owner;;FAIL
# xt_owner registers for OUTPUT and POSTROUTING only: the socket is unknown elsewhere
:INPUT,FORWARD
-m owner --uid-owner 0;;FAIL
-m owner --socket-exists;;FAIL
*mangle
:OUTPUT,POSTROUTING
-m owner --uid-owner 0;=;OK
:PREROUTING,INPUT,FORWARD
-m owner --uid-owner 0;;FAIL
*nat
:OUTPUT,POSTROUTING
-m owner --gid-owner 0;=;OK
