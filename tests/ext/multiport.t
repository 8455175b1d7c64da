# -m multiport (revision 1): at most 15 slots, a range taking two; needs -p tcp/udp/udplite/sctp/dccp.
# iptables checks -p when it reads the ports option, so it also refuses `-m multiport --dports 80
# -p tcp`; extensions see the whole rule's -p, so that order is not a case here.
:INPUT,FORWARD,OUTPUT
-p tcp -m multiport --dports 80,443;=;OK
-p tcp -m multiport --sports 22;=;OK
-p tcp -m multiport --ports 22,80;=;OK
-p tcp -m multiport --source-ports 22;-p tcp -m multiport --sports 22;OK
-p tcp -m multiport --destination-ports 22;-p tcp -m multiport --dports 22;OK
-p tcp -m multiport ! --sports 1:1023,8080;=;OK
-p tcp -m multiport ! --ports 80;=;OK
-p tcp -m multiport --dports http,ssh;-p tcp -m multiport --dports 80,22;OK
-p tcp -m multiport --dports 0x50,0120;-p tcp -m multiport --dports 80,80;OK
-p tcp -m multiport --dports 080;;FAIL
-p tcp -m multiport --dports 80,80;=;OK
-p udp -m multiport --dports domain,ntp;-p udp -m multiport --dports 53,123;OK
-p udp -m multiport --dports http;;FAIL
-p sctp -m multiport --dports 80,443;=;OK
-p dccp -m multiport --dports 80,443;=;OK
-p udplite -m multiport --dports 80,443;=;OK
-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15;=;OK
-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16;;FAIL
-p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15;=;OK
-p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16;;FAIL
-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15;=;OK
-p tcp -m multiport --dports 80:80;;FAIL
-p tcp -m multiport --dports 90:80;;FAIL
-p tcp -m multiport --dports 80:;;FAIL
-p tcp -m multiport --dports 80,;;FAIL
-p tcp -m multiport --dports 65536;;FAIL
-p tcp -m multiport --dports foo;;FAIL
-m multiport --dports 80;;FAIL
-p icmp -m multiport --dports 80;;FAIL
! -p tcp -m multiport --dports 80;;FAIL
-p tcp -m multiport;;FAIL
-p tcp -m multiport --dports 80 --sports 80;;FAIL
-p tcp -m multiport --dports 80 --dports 81;;FAIL
-p tcp -m multiport --dports 80 -m multiport --sports 22;=;OK
