# TOS (revision 1): mangle table only, any hook. The kernel sets tos = (tos & ~mask) ^ value;
# iptables-save always prints value/mask. A number without a mask gets mask 0xff, a symbolic
# name gets 0x3f (it leaves the two ECN bits alone).
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j TOS --set-tos 0x1f;-j TOS --set-tos 0x1f/0xff;OK
-j TOS --set-tos 16;-j TOS --set-tos 0x10/0xff;OK
-j TOS --set-tos +16;-j TOS --set-tos 0x10/0xff;OK
-j TOS --and-tos +3;-j TOS --set-tos 0x00/0xfc;OK
-j TOS --set-tos 0xff;-j TOS --set-tos 0xff/0xff;OK
-j TOS --set-tos 256;;FAIL
-j TOS --set-tos 0x10/0x3f;=;OK
-j TOS --set-tos 0xff/0x3f;=;OK
-j TOS --set-tos 0x02/0x3e;=;OK
-j TOS --set-tos 0x20/0x10;=;OK
-j TOS --set-tos 0x10/0x1ff;;FAIL
-j TOS --set-tos 0x10/;;FAIL
-j TOS --set-tos 0x10x;;FAIL
-j TOS --set-tos Minimize-Delay;-j TOS --set-tos 0x10/0x3f;OK
-j TOS --set-tos Maximize-Throughput;-j TOS --set-tos 0x08/0x3f;OK
-j TOS --set-tos maximize-reliability;-j TOS --set-tos 0x04/0x3f;OK
-j TOS --set-tos MINIMIZE-COST;-j TOS --set-tos 0x02/0x3f;OK
-j TOS --set-tos Normal-Service;-j TOS --set-tos 0x00/0x3f;OK
-j TOS --set-tos Minimize-Delay/0xff;;FAIL
-j TOS --set-tos foo;;FAIL
-j TOS --and-tos 0x0f;-j TOS --set-tos 0x00/0xf0;OK
-j TOS --and-tos 0;-j TOS --set-tos 0x00/0xff;OK
-j TOS --and-tos 256;;FAIL
-j TOS --or-tos 0x10;-j TOS --set-tos 0x10/0x10;OK
-j TOS --or-tos 0;-j TOS --set-tos 0x00/0x00;OK
-j TOS --xor-tos 0x10;-j TOS --set-tos 0x10/0x00;OK
-j TOS --xor-tos 0xff;-j TOS --set-tos 0xff/0x00;OK
-j TOS;;FAIL
-j TOS --set-tos 0x10 --or-tos 1;;FAIL
-j TOS --and-tos 1 --xor-tos 1;;FAIL
-j TOS --or-tos 1 --or-tos 2;;FAIL
-j TOS ! --set-tos 1;;FAIL
:INPUT,FORWARD,OUTPUT
*filter
-j TOS --set-tos 0x10;;FAIL
