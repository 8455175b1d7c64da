# ECN: IPv4 only, mangle table only, any hook. The TCP operations need -p tcp (ecn_tg_check).
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-p tcp -j ECN --ecn-tcp-remove;=;OK
-p tcp -j ECN --ecn-tcp-cwr 0 --ecn-tcp-ece 0;-p tcp -j ECN --ecn-tcp-remove;OK
-p tcp -j ECN --ecn-tcp-cwr 1;=;OK
-p tcp -j ECN --ecn-tcp-cwr 0;=;OK
-p tcp -j ECN --ecn-tcp-ece 1;=;OK
-p tcp -j ECN --ecn-tcp-cwr 0x1;-p tcp -j ECN --ecn-tcp-cwr 1;OK
-p tcp -j ECN --ecn-tcp-cwr 2;;FAIL
-p tcp -j ECN --ecn-tcp-cwr 1 --ecn-tcp-ece 1 --ecn-ip-ect 1;-p tcp -j ECN --ecn-tcp-ece 1 --ecn-tcp-cwr 1 --ecn-ip-ect 1;OK
-p tcp -j ECN --ecn-tcp-remove --ecn-ip-ect 2;-p tcp -j ECN --ecn-tcp-ece 0 --ecn-tcp-cwr 0 --ecn-ip-ect 2;OK
-p tcp -j ECN --ecn-tcp-remove --ecn-tcp-cwr 1;;FAIL
-p tcp -j ECN --ecn-tcp-ece 1 --ecn-tcp-remove;;FAIL
-p tcp -j ECN --ecn-tcp-remove --ecn-tcp-remove;;FAIL
-j ECN --ecn-ip-ect 0;=;OK
-j ECN --ecn-ip-ect 3;=;OK
-p udp -j ECN --ecn-ip-ect 1;=;OK
-j ECN --ecn-ip-ect 4;;FAIL
-j ECN --ecn-tcp-remove;;FAIL
-p udp -j ECN --ecn-tcp-ece 1;;FAIL
! -p tcp -j ECN --ecn-tcp-cwr 1;;FAIL
-j ECN;;FAIL
-j ECN ! --ecn-ip-ect 1;;FAIL
:INPUT,FORWARD,OUTPUT
*filter
-j ECN --ecn-ip-ect 1;;FAIL
