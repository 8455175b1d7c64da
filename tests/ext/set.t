# -m set: ipset membership and counters (libxt_set.c revision 4, xt_set.c)
# iptables asks the kernel for the set while parsing, so the sets must exist.
# needs: ipset create fwb-ip hash:ip
# needs: ipset create fwb-ipport hash:ip,port
:INPUT,FORWARD,OUTPUT
-m set --match-set fwb-ip src;=;OK
-m set ! --match-set fwb-ip dst;=;OK
-m set --match-set fwb-ipport src,dst;=;OK
-m set --match-set fwb-ipport dst,src,src,dst,dst,src;=;OK
# the kernel does not compare the flags with the set's dimension
-m set --match-set fwb-ip src,dst;=;OK
# flags are told apart by their first three letters
-m set --match-set fwb-ip srcx,dst0;-m set --match-set fwb-ip src,dst;OK
# --set is the deprecated spelling of --match-set
-m set --set fwb-ip src;-m set --match-set fwb-ip src;OK
-m set --match-set fwb-ip src --return-nomatch ! --update-counters ! --update-subcounters --packets-eq 1 --bytes-gt 10;=;OK
-m set --bytes-lt 5 --packets-gt 18446744073709551615 --return-nomatch --match-set fwb-ip dst;-m set --match-set fwb-ip dst --return-nomatch --packets-gt 18446744073709551615 --bytes-lt 5;OK
-m set --match-set fwb-ip src ! --packets-eq 0x10 ! --bytes-eq 010;-m set --match-set fwb-ip src ! --packets-eq 16 ! --bytes-eq 8;OK
# without ! the update options are the default and vanish
-m set --match-set fwb-ip src --update-counters --update-subcounters;-m set --match-set fwb-ip src;OK
-m set --match-set fwb-ip src -m set ! --match-set fwb-ipport src,src;=;OK
-m set --match-set fwb-ip src,dst,dst,src,src,dst,src;;FAIL
-m set --match-set fwb-ip sr;;FAIL
-m set --match-set fwb-ip src,;;FAIL
-m set --match-set fwb-ip;;FAIL
-m set --match-set fwb-ip src --match-set fwb-ip dst;;FAIL
-m set --match-set fwb-ip src ! --return-nomatch;;FAIL
-m set --match-set fwb-ip src ! --packets-gt 1;;FAIL
-m set --match-set fwb-ip src ! --bytes-lt 1;;FAIL
-m set --match-set fwb-ip src --packets-gt 1 --packets-lt 5;;FAIL
-m set --match-set fwb-ip src --bytes-eq 18446744073709551616;;FAIL
-m set --match-set fwb-ip src --bytes-eq -1;;FAIL
-m set --match-set abcdefghijklmnopqrstuvwxyz012345 src;;FAIL
-m set --return-nomatch;;FAIL
-m set;;FAIL
