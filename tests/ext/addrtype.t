# -m addrtype: route types of the source/destination address (libxt_addrtype.c, xt_addrtype.c)
:INPUT,FORWARD,OUTPUT
-m addrtype --src-type LOCAL;=;OK
-m addrtype --dst-type UNICAST,BROADCAST,MULTICAST;=;OK
# types print in kernel order, whatever order they were given in
-m addrtype --dst-type MULTICAST,UNICAST;-m addrtype --dst-type UNICAST,MULTICAST;OK
# any case-insensitive prefix, the first type in kernel order wins (U = UNSPEC)
-m addrtype --src-type loc;-m addrtype --src-type LOCAL;OK
-m addrtype --src-type U,unr;-m addrtype --src-type UNSPEC,UNREACHABLE;OK
-m addrtype ! --src-type LOCAL ! --dst-type UNSPEC,ANYCAST,BLACKHOLE,UNREACHABLE,PROHIBIT,THROW,NAT,XRESOLVE;=;OK
-m addrtype --dst-type LOCAL --src-type BROADCAST;-m addrtype --src-type BROADCAST --dst-type LOCAL;OK
-m addrtype --src-type LOCALX;;FAIL
-m addrtype --src-type LOCAL,;;FAIL
-m addrtype --src-type ,LOCAL;;FAIL
-m addrtype --src-type LOCAL --src-type UNICAST;;FAIL
-m addrtype;;FAIL
-m addrtype --limit-iface-in;;FAIL
-m addrtype --dst-type LOCAL --limit-iface-in --limit-iface-out;;FAIL
-m addrtype --dst-type LOCAL --limit-iface-in --limit-iface-in;;FAIL
# the kernel knows the incoming device only on the way in, the outgoing one on the way out
:INPUT,FORWARD
-m addrtype --dst-type LOCAL --limit-iface-in;=;OK
:OUTPUT
-m addrtype --dst-type LOCAL --limit-iface-in;;FAIL
:FORWARD,OUTPUT
-m addrtype --src-type LOCAL --limit-iface-out;=;OK
:INPUT
-m addrtype --src-type LOCAL --limit-iface-out;;FAIL
*nat
:PREROUTING
-m addrtype --dst-type LOCAL --limit-iface-in;=;OK
-m addrtype --dst-type LOCAL --limit-iface-out;;FAIL
:POSTROUTING
-m addrtype --src-type LOCAL --limit-iface-out;=;OK
-m addrtype --src-type LOCAL --limit-iface-in;;FAIL
