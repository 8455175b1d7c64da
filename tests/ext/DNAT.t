# -j DNAT: nat table, PREROUTING and OUTPUT only (xt_nat.c).
# Ports need -p tcp/udp/sctp/dccp, or icmp; iptables looks at the -p number even when negated.
:PREROUTING,OUTPUT
*nat
-j DNAT --to-destination 1.1.1.1;=;OK
-j DNAT --to-destination 1.1.1.1-1.1.1.10;=;OK
-j DNAT --to-destination 1.1.1.10-1.1.1.1;=;OK
-j DNAT --to-destination 1.1.1.1-1.1.1.1;-j DNAT --to-destination 1.1.1.1;OK
-p tcp -j DNAT --to-destination 1.1.1.1:1000;=;OK
-p udp -j DNAT --to-destination 1.1.1.1:1000-2000;=;OK
-p sctp -j DNAT --to-destination 1.1.1.1-1.1.1.10:1000-2000;=;OK
-p dccp -j DNAT --to-destination :1000;=;OK
-p icmp -j DNAT --to-destination 1.1.1.1:1000;=;OK
! -p tcp -j DNAT --to-destination 1.1.1.1:1000;=;OK
-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/3000;=;OK
-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/3000x;-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/3000;OK
-p tcp -j DNAT --to-destination 1.1.1.1:http;-p tcp -j DNAT --to-destination 1.1.1.1:80;OK
-p tcp -j DNAT --to-destination 1.1.1.1:0x10-0x20/http;-p tcp -j DNAT --to-destination 1.1.1.1:16-32/80;OK
-p tcp -j DNAT --to-destination 1.1.1.1:80-80;-p tcp -j DNAT --to-destination 1.1.1.1:80;OK
-p tcp -j DNAT --to-destination 1.1.1.1:0;=;OK
-p tcp -j DNAT --to-destination 1.1.1.1:65535;=;OK
# A colon in third place means "no address" to iptables' parse_to.
-p tcp -j DNAT --to-destination ab:80;-p tcp -j DNAT --to-destination :80;OK
-j DNAT --to-destination 1.1.1.1 --random --persistent;=;OK
-j DNAT --persistent --random --to-destination 1.1.1.1;-j DNAT --to-destination 1.1.1.1 --random --persistent;OK
-j DNAT;;FAIL
-j DNAT --random;;FAIL
-j DNAT --to-destination 1.1.1.1:1000;;FAIL
-p udplite -j DNAT --to-destination 1.1.1.1:1000;;FAIL
-j DNAT --to-destination 1.1.1.1 --random-fully;;FAIL
-j DNAT --to-destination 1.1.1.1 --to-destination 1.1.1.2;;FAIL
-j DNAT ! --to-destination 1.1.1.1;;FAIL
-p tcp -j DNAT --to-destination 1.1.1.1:2000-1000;;FAIL
-p tcp -j DNAT --to-destination 1.1.1.1:1000:2000;;FAIL
-p tcp -j DNAT --to-destination 1.1.1.1:1000-http;;FAIL
-p tcp -j DNAT --to-destination 1.1.1.1:65536;;FAIL
-p tcp -j DNAT --to-destination 1.1.1.1:080;;FAIL
-p tcp -j DNAT --to-destination 1.1.1.1:80x;;FAIL
-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/0;;FAIL
-p tcp -j DNAT --to-destination 1.1.1.1:;;FAIL
-j DNAT --to-destination 1.1.1;;FAIL
-j DNAT --to-destination 01.1.1.1;;FAIL
-j DNAT --to-destination 1.1.1.1/24;;FAIL
-j DNAT --to-destination 1.1.1.1-;;FAIL
-p tcp -j DNAT --to-destination [1.1.1.1]:80;;FAIL
:INPUT,POSTROUTING
*nat
-j DNAT --to-destination 1.1.1.1;;FAIL
:PREROUTING,OUTPUT
*mangle
-j DNAT --to-destination 1.1.1.1;;FAIL
