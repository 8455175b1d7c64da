# -j CONNMARK: any table and hook (xt_connmark.c). Options apply in the order written: a
# later --mask/--ctmask replaces the mask --set-mark computed, an earlier one is overwritten.
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j CONNMARK --set-xmark 0x1/0xff;=;OK
-j CONNMARK --set-mark 1;-j CONNMARK --set-xmark 0x1/0xffffffff;OK
-j CONNMARK --set-mark 0x10/0x1;-j CONNMARK --set-xmark 0x10/0x11;OK
-j CONNMARK --and-mark 0xff;-j CONNMARK --set-xmark 0x0/0xffffff00;OK
-j CONNMARK --or-mark 0x4;-j CONNMARK --set-xmark 0x4/0x4;OK
-j CONNMARK --xor-mark 0x4;-j CONNMARK --set-xmark 0x4/0x0;OK
-j CONNMARK --set-mark 1 --mask 0xff;-j CONNMARK --set-xmark 0x1/0xff;OK
-j CONNMARK --mask 0xff --set-mark 1;-j CONNMARK --set-xmark 0x1/0xffffffff;OK
-j CONNMARK --set-mark 1 --ctmask 0xff;-j CONNMARK --set-xmark 0x1/0xff;OK
-j CONNMARK --set-mark 1 --nfmask 0xff;-j CONNMARK --set-xmark 0x1/0xffffffff;OK
-j CONNMARK --save-mark;-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff;OK
-j CONNMARK --save-mark --mask 0xff;-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff;OK
-j CONNMARK --save-mark --nfmask 0xff;-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xffffffff;OK
-j CONNMARK --save-mark --ctmask 0xff;-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xff;OK
-j CONNMARK --save-mark --nfmask 0xf0 --ctmask 0xff;=;OK
-j CONNMARK --restore-mark;-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff;OK
-j CONNMARK --restore-mark --mask 0xff;-j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff;OK
-j CONNMARK --restore-mark --nfmask 0xf0 --ctmask 0xff;=;OK
-j CONNMARK --restore-mark --nfmask 0x0 --ctmask 0x0;=;OK
-j CONNMARK --restore-mark --left-shift-mark 4;-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff --left-shift-mark 4;OK
-j CONNMARK --save-mark --mask 0xff00 --right-shift-mark 8;-j CONNMARK --save-mark --nfmask 0xff00 --ctmask 0xff00 --right-shift-mark 8;OK
-j CONNMARK --save-mark --left-shift-mark 3 --right-shift-mark 2;-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff --right-shift-mark 2;OK
-j CONNMARK --save-mark --left-shift-mark 0;-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff;OK
-j CONNMARK --set-xmark 0x1/0xff --left-shift-mark 31;=;OK
-j CONNMARK;;FAIL
-j CONNMARK --mask 0xff;;FAIL
-j CONNMARK --save-mark --restore-mark;;FAIL
-j CONNMARK --set-mark 1 --or-mark 1;;FAIL
-j CONNMARK --restore-mark --nfmask 0xf0 --mask 0xff;;FAIL
-j CONNMARK --save-mark --mask 0xff --mask 0xf;;FAIL
-j CONNMARK --save-mark --left-shift-mark 32;;FAIL
-j CONNMARK --save-mark --left-shift-mark 33;;FAIL
-j CONNMARK --save-mark --left-shift-mark 1 --left-shift-mark 2;;FAIL
:INPUT,FORWARD,OUTPUT
*filter
-j CONNMARK --save-mark;-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff;OK
