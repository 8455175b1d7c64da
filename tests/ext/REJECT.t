:INPUT,FORWARD,OUTPUT
-j REJECT;-j REJECT --reject-with icmp-port-unreachable;OK
-j REJECT --reject-with icmp-net-unreachable;=;OK
-j REJECT --reject-with icmp-host-unreachable;=;OK
-j REJECT --reject-with icmp-port-unreachable;=;OK
-j REJECT --reject-with icmp-proto-unreachable;=;OK
-j REJECT --reject-with icmp-net-prohibited;=;OK
-j REJECT --reject-with icmp-host-prohibited;=;OK
-j REJECT --reject-with icmp-admin-prohibited;=;OK
-j REJECT --reject-with host-prohib;-j REJECT --reject-with icmp-host-prohibited;OK
-p tcp -j REJECT --reject-with tcp-reset;=;OK
-p tcp -j REJECT --reject-with tcp-rst;-p tcp -j REJECT --reject-with tcp-reset;OK
-j REJECT --reject-with tcp-reset;;FAIL
-j REJECT --reject-with icmp6-no-route;;FAIL
-j REJECT --reject-with nonsense;;FAIL
# Only the filter table has REJECT (nft and legacy both refuse it elsewhere).
*mangle
:INPUT,FORWARD,OUTPUT
-j REJECT;;FAIL
*raw
:OUTPUT
-j REJECT;;FAIL
*nat
:OUTPUT
-j REJECT;;FAIL
*security
:INPUT
-j REJECT;;FAIL
