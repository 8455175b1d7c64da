# -m mark: printed in hex; the mask is left out when it is all ones.
:INPUT,FORWARD,OUTPUT
*filter
-m mark --mark 1;-m mark --mark 0x1;OK
-m mark --mark 0x10/0xff;=;OK
-m mark --mark +5/+7;-m mark --mark 0x5/0x7;OK
-m mark --mark 0+5;;FAIL
-m mark --mark 0x+5;;FAIL
-m mark ! --mark 0x10/0xff;=;OK
-m mark --mark 0xffffffff/0xffffffff;-m mark --mark 0xffffffff;OK
-m mark --mark 0/0xffffffff;-m mark --mark 0x0;OK
-m mark --mark 5/0;-m mark --mark 0x5/0x0;OK
-m mark ! --mark 0/0;-m mark ! --mark 0x0/0x0;OK
-m mark --mark 0x11/0x1;=;OK
-m mark --mark 010;-m mark --mark 0x8;OK
-m mark --mark 0xFF;-m mark --mark 0xff;OK
-m mark --mark 0x100000000;;FAIL
-m mark --mark -1;;FAIL
-m mark --mark 1/2/3;;FAIL
-m mark --mark 0x1/;;FAIL
-m mark --mark /0x1;;FAIL
-m mark --mark 1 --mark 2;;FAIL
-m mark;;FAIL
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-m mark --mark 0x4000/0x4000;=;OK
