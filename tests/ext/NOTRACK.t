# -j NOTRACK: iptables' alias for CT --notrack; iptables-save keeps the alias, while
# iptables -L shows CT in the target column and NOTRACK as the text. Raw table only.
:PREROUTING,OUTPUT
*raw
-j NOTRACK;=;OK
-p tcp -j NOTRACK;=;OK
-j NOTRACK --notrack;;FAIL
:INPUT,FORWARD,OUTPUT
*filter
-j NOTRACK;;FAIL
