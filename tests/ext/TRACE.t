# -j TRACE: xt_TRACE is raw-only, but iptables-nft loads it as `meta nftrace set 1`, which
# every table takes.
:PREROUTING,OUTPUT
*raw
-j TRACE;=;OK
-p tcp -j TRACE;=;OK
-j TRACE --log;;FAIL
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j TRACE;=;OK
:INPUT,FORWARD,OUTPUT
*filter
-j TRACE;=;OK
:PREROUTING,INPUT,OUTPUT,POSTROUTING
*nat
-j TRACE;=;OK
