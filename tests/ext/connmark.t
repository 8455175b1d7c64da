# -m connmark: the connection's mark; same syntax and save text as -m mark.
:INPUT,FORWARD,OUTPUT
*filter
-m connmark --mark 1;-m connmark --mark 0x1;OK
-m connmark --mark 0;-m connmark --mark 0x0;OK
-m connmark ! --mark 0x10/0xff;=;OK
-m connmark --mark 3/0x7;-m connmark --mark 0x3/0x7;OK
-m connmark --mark 0x11/0x1;=;OK
-m connmark --mark 0xffffffff/0xffffffff;-m connmark --mark 0xffffffff;OK
-m connmark --mark 0x100000000;;FAIL
-m connmark --mark 1/2/3;;FAIL
-m connmark --mark 1 --mark 2;;FAIL
-m connmark;;FAIL
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-m connmark ! --mark 0x1/0x1;=;OK
