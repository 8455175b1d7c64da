# -j REDIRECT: nat table, PREROUTING and OUTPUT only (xt_REDIRECT.c).
:PREROUTING,OUTPUT
*nat
-j REDIRECT;=;OK
-j REDIRECT --random;=;OK
-p tcp -j REDIRECT --to-ports 8080;=;OK
-p udp -j REDIRECT --to-ports 8080-8090 --random;=;OK
-p tcp -j REDIRECT --to-ports 0x1f90;-p tcp -j REDIRECT --to-ports 8080;OK
-j REDIRECT --to-ports 8080;;FAIL
-p tcp -j REDIRECT --to-ports 8080-8090/9000;;FAIL
-p tcp -j REDIRECT --to-ports 8090-8080;;FAIL
-j REDIRECT --random-fully;;FAIL
:INPUT,POSTROUTING
*nat
-j REDIRECT;;FAIL
