# -j SET: any table; --map-set only in mangle, --map-prio/--map-queue only in FORWARD, OUTPUT
# and POSTROUTING (xt_set.c). The sets must exist: create them in the netns first.
# needs: ipset create s1 hash:ip
# needs: ipset create s2 hash:ip,port
# needs: ipset create m1 hash:ip skbinfo
:INPUT,FORWARD,OUTPUT
*filter
-j SET --add-set s1 src;=;OK
-j SET --del-set s1 dst;=;OK
-j SET --add-set s2 src,dst --exist --timeout 10;=;OK
-j SET --timeout 10 --exist --add-set s2 src,dst --del-set s1 dst;-j SET --add-set s2 src,dst --exist --timeout 10 --del-set s1 dst;OK
-j SET --add-set s1 src,src,src,src,src,src;=;OK
-j SET --add-set s1 srcip,dstip;-j SET --add-set s1 src,dst;OK
-j SET --add-set s1 src --timeout 0x10;-j SET --add-set s1 src --timeout 16;OK
-j SET --add-set s1 src --timeout 4294967294;=;OK
-j SET --add-set s1 src --timeout 1 --timeout 2;-j SET --add-set s1 src --timeout 2;OK
-j SET --add-set s1 src --exist --exist;-j SET --add-set s1 src --exist;OK
-j SET ! --add-set s1 src;-j SET --add-set s1 src;OK
-j SET;;FAIL
-j SET --exist;;FAIL
-j SET --add-set s1;;FAIL
-j SET --add-set s1 ! src;;FAIL
-j SET --add-set s1 src,src,src,src,src,src,src;;FAIL
-j SET --add-set s1 SRC;;FAIL
-j SET --add-set s1 src,;;FAIL
-j SET --add-set s1 src --add-set s1 dst;;FAIL
-j SET --del-set s1 src --exist;;FAIL
-j SET --del-set s1 src --timeout 5;;FAIL
-j SET --add-set s1 src --timeout 4294967295;;FAIL
-j SET --add-set abcdefghijklmnopqrstuvwxyz0123456 src;;FAIL
-j SET --map-set m1 dst --map-mark;;FAIL
-j SET --add-set s1 dst --map-mark;;FAIL
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j SET --map-set m1 dst --map-mark;=;OK
-j SET --map-set m1 dst;;FAIL
:FORWARD,OUTPUT,POSTROUTING
*mangle
-j SET --map-set m1 src,dst --map-prio --map-queue --map-mark;-j SET --map-set m1 src,dst --map-mark --map-prio --map-queue;OK
:PREROUTING,INPUT
*mangle
-j SET --map-set m1 dst --map-prio;;FAIL
-j SET --map-set m1 dst --map-queue;;FAIL
