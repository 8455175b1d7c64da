# -m ecn: the TCP bits need -p tcp (ecn_mt_check), --ecn-ip-ect does not.
:INPUT,FORWARD,OUTPUT
-p tcp -m ecn --ecn-tcp-cwr;=;OK
-p tcp -m ecn --ecn-tcp-ece;=;OK
-p tcp -m ecn ! --ecn-tcp-ece --ecn-tcp-cwr;=;OK
-p tcp -m ecn --ecn-tcp-cwr ! --ecn-tcp-ece;-p tcp -m ecn ! --ecn-tcp-ece --ecn-tcp-cwr;OK
-m ecn --ecn-ip-ect 2;=;OK
-m ecn ! --ecn-ip-ect 0;=;OK
-p udp -m ecn --ecn-ip-ect 1;=;OK
-p tcp -m ecn --ecn-ip-ect 3 --ecn-tcp-ece --ecn-tcp-cwr;-p tcp -m ecn --ecn-tcp-ece --ecn-tcp-cwr --ecn-ip-ect 3;OK
-p tcp -m ecn ! --ecn-ip-ect 3 ! --ecn-tcp-cwr;-p tcp -m ecn ! --ecn-tcp-cwr ! --ecn-ip-ect 3;OK
-m ecn --ecn-ip-ect 4;;FAIL
-m ecn --ecn-tcp-cwr;;FAIL
! -p tcp -m ecn --ecn-tcp-ece;;FAIL
-p udp -m ecn --ecn-tcp-ece;;FAIL
-p tcp -m ecn --ecn-tcp-cwr --ecn-tcp-cwr;;FAIL
-m ecn;;FAIL
