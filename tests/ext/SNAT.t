# -j SNAT: nat table, POSTROUTING and INPUT only (xt_nat.c).
# iptables sends IPv4 SNAT in a structure without a base port: `/N` comes back as `/0`.
:POSTROUTING,INPUT
*nat
-j SNAT --to-source 1.1.1.1;=;OK
-j SNAT --to-source 1.1.1.1-1.1.1.10;=;OK
-p tcp -j SNAT --to-source 1.1.1.1:1025-65535;=;OK
-p udp -j SNAT --to-source 1.1.1.1-1.1.1.10:1025-65535 --random --random-fully --persistent;=;OK
-j SNAT --to-source 1.1.1.1 --persistent --random-fully;-j SNAT --to-source 1.1.1.1 --random-fully --persistent;OK
-p tcp -j SNAT --to-source 1.1.1.1:1000-2000/3000;-p tcp -j SNAT --to-source 1.1.1.1:1000-2000/0;OK
-p tcp -j SNAT --to-source 1.1.1.1:1000-2000/http;-p tcp -j SNAT --to-source 1.1.1.1:1000-2000/0;OK
-p tcp -j SNAT --to-source :1000;=;OK
-j SNAT;;FAIL
-j SNAT --random;;FAIL
-j SNAT --to-source 1.1.1.1:1000;;FAIL
-j SNAT --to-source 1.1.1.1 --to-source 1.1.1.2;;FAIL
-p tcp -j SNAT --to-source 1.1.1.1:1000/3000;;FAIL
-p tcp -j SNAT --to-source 1.1.1.1:1000-2000/0;;FAIL
:PREROUTING,OUTPUT
*nat
-j SNAT --to-source 1.1.1.1;;FAIL
