# CLASSIFY: any table; only the FORWARD, OUTPUT and POSTROUTING hooks. The class is read with
# sscanf("%x:%x") (0x prefix, sign, trailing text all accepted) and saved as %04x:%04x.
:FORWARD,OUTPUT,POSTROUTING
*mangle
-j CLASSIFY --set-class 1:2;-j CLASSIFY --set-class 0001:0002;OK
-j CLASSIFY --set-class 0001:0002;=;OK
-j CLASSIFY --set-class ffff:ffff;=;OK
-j CLASSIFY --set-class 0:0;-j CLASSIFY --set-class 0000:0000;OK
-j CLASSIFY --set-class abc:DEF;-j CLASSIFY --set-class 0abc:0def;OK
-j CLASSIFY --set-class 0x10:0X20;-j CLASSIFY --set-class 0010:0020;OK
-j CLASSIFY --set-class 10000:10001;-j CLASSIFY --set-class 0000:0001;OK
-j CLASSIFY --set-class 123456789:1;-j CLASSIFY --set-class 6789:0001;OK
-j CLASSIFY --set-class -1:1;-j CLASSIFY --set-class ffff:0001;OK
-j CLASSIFY --set-class 1:2:3;-j CLASSIFY --set-class 0001:0002;OK
-j CLASSIFY --set-class 1;;FAIL
-j CLASSIFY --set-class 1:;;FAIL
-j CLASSIFY --set-class :1;;FAIL
-j CLASSIFY --set-class x:1;;FAIL
-j CLASSIFY;;FAIL
-j CLASSIFY --set-class 1:1 --set-class 1:2;;FAIL
-j CLASSIFY ! --set-class 1:1;;FAIL
:PREROUTING,INPUT
-j CLASSIFY --set-class 1:1;;FAIL
:FORWARD,OUTPUT
*filter
-j CLASSIFY --set-class 1:1;-j CLASSIFY --set-class 0001:0001;OK
:INPUT
-j CLASSIFY --set-class 1:1;;FAIL
:OUTPUT,POSTROUTING
*nat
-j CLASSIFY --set-class 1:1;-j CLASSIFY --set-class 0001:0001;OK
:PREROUTING
-j CLASSIFY --set-class 1:1;;FAIL
:OUTPUT
*raw
-j CLASSIFY --set-class 1:1;-j CLASSIFY --set-class 0001:0001;OK
