# -j MARK: any table and hook (xt_mark.c). Every form is saved as --set-xmark mark/mask.
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j MARK --set-xmark 0x1/0xff;=;OK
-j MARK --set-xmark 0x10;-j MARK --set-xmark 0x10/0xffffffff;OK
-j MARK --set-xmark 0x5/0x5;=;OK
-j MARK --set-xmark 0x0/0x0;=;OK
-j MARK --set-mark 1;-j MARK --set-xmark 0x1/0xffffffff;OK
-j MARK --set-mark 0x1/0xff;-j MARK --set-xmark 0x1/0xff;OK
-j MARK --set-mark 0x10/0x1;-j MARK --set-xmark 0x10/0x11;OK
-j MARK --set-mark 010;-j MARK --set-xmark 0x8/0xffffffff;OK
-j MARK --set-mark 0;-j MARK --set-xmark 0x0/0xffffffff;OK
-j MARK --set-mark 4294967295;-j MARK --set-xmark 0xffffffff/0xffffffff;OK
-j MARK --and-mark 0xff;-j MARK --set-xmark 0x0/0xffffff00;OK
-j MARK --and-mark 0xffffffff;-j MARK --set-xmark 0x0/0x0;OK
-j MARK --or-mark 0x4000;-j MARK --set-xmark 0x4000/0x4000;OK
-j MARK --xor-mark 0x4;-j MARK --set-xmark 0x4/0x0;OK
-j MARK;;FAIL
-j MARK --set-mark 0x100000000;;FAIL
-j MARK --set-mark -1;;FAIL
-j MARK --set-mark 1/;;FAIL
-j MARK --set-mark /1;;FAIL
-j MARK --set-mark 1x;;FAIL
-j MARK --or-mark 1/2;;FAIL
-j MARK --set-mark 1 --or-mark 2;;FAIL
-j MARK --set-mark 1 --set-mark 2;;FAIL
-j MARK ! --set-mark 1;;FAIL
:INPUT,FORWARD,OUTPUT
*filter
-j MARK --set-mark 1;-j MARK --set-xmark 0x1/0xffffffff;OK
:PREROUTING,OUTPUT
*raw
-j MARK --or-mark 2;-j MARK --set-xmark 0x2/0x2;OK
