# -m pkttype: unicast, broadcast, multicast, otherhost (aliases host, bcast, mcast; any case).
:INPUT,FORWARD,OUTPUT
-m pkttype --pkt-type unicast;=;OK
-m pkttype --pkt-type broadcast;=;OK
-m pkttype --pkt-type multicast;=;OK
-m pkttype --pkt-type otherhost;=;OK
-m pkttype ! --pkt-type host;-m pkttype ! --pkt-type unicast;OK
-m pkttype --pkt-type bcast;-m pkttype --pkt-type broadcast;OK
-m pkttype --pkt-type mcast;-m pkttype --pkt-type multicast;OK
-m pkttype --pkt-type OtherHost;-m pkttype --pkt-type otherhost;OK
-m pkttype --pkt-type foo;;FAIL
-m pkttype --pkt-type 3;;FAIL
-m pkttype --pkt-type host --pkt-type bcast;;FAIL
-m pkttype;;FAIL
