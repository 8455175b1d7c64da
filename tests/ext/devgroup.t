# -m devgroup: device group of the in/out device (libxt_devgroup.c, xt_devgroup.c)
# Names come from /etc/iproute2/group (Debian ships "0 default").
:INPUT,FORWARD
-m devgroup --src-group 1;-m devgroup --src-group 0x1;OK
-m devgroup ! --src-group 0x10/0xff;=;OK
-m devgroup --src-group 010/07;-m devgroup --src-group 0x8/0x7;OK
-m devgroup --src-group 5/0xffffffff;-m devgroup --src-group 0x5;OK
-m devgroup --src-group 4294967295;-m devgroup --src-group 0xffffffff;OK
# iptables-save prints a group's name when it has one
-m devgroup --src-group default;=;OK
-m devgroup --src-group 0;-m devgroup --src-group default;OK
-m devgroup --src-group no-such-group;;FAIL
-m devgroup --src-group 4294967296;;FAIL
-m devgroup --src-group 1/;;FAIL
-m devgroup --src-group 1/2x;;FAIL
-m devgroup --src-group 1x;;FAIL
-m devgroup --src-group 1 --src-group 2;;FAIL
-m devgroup;;FAIL
# the incoming device is known up to FORWARD, the outgoing one from FORWARD on
:FORWARD,OUTPUT
-m devgroup --dst-group 2;-m devgroup --dst-group 0x2;OK
:FORWARD
-m devgroup ! --dst-group 2 --src-group 3;-m devgroup --src-group 0x3 ! --dst-group 0x2;OK
:OUTPUT
-m devgroup --src-group 2;;FAIL
:INPUT
-m devgroup --dst-group 2;;FAIL
*mangle
:PREROUTING
-m devgroup --src-group 2;-m devgroup --src-group 0x2;OK
-m devgroup --dst-group 2;;FAIL
:POSTROUTING
-m devgroup --dst-group 2;-m devgroup --dst-group 0x2;OK
-m devgroup --src-group 2;;FAIL
