# -m limit: iptables-nft makes an nft `limit` expression of it; rates print in the largest
# unit that shows them (3/minute as 3/min, 10 as 10/sec), the default rate 3/hour is always
# saved, the default burst 5 never. nft_limit turns a burst of 0 into 5.
:INPUT,FORWARD,OUTPUT
*filter
-m limit;-m limit --limit 3/hour;OK
-m limit --limit 3/minute;-m limit --limit 3/min;OK
-m limit --limit 3/m --limit-burst 10;-m limit --limit 3/min --limit-burst 10;OK
-m limit --limit 10;-m limit --limit 10/sec;OK
-m limit --limit 7/hour;=;OK
-m limit --limit 2/d;-m limit --limit 2/day;OK
-m limit --limit 25/MIN;-m limit --limit 25/min;OK
-m limit --limit 400/hour;=;OK
-m limit --limit 10000/s;-m limit --limit 10000/sec;OK
-m limit --limit 3x/min;-m limit --limit 3/min;OK
-m limit --limit-burst 10000;-m limit --limit 3/hour --limit-burst 10000;OK
-m limit --limit 1/day --limit-burst 0;-m limit --limit 1/day;OK
-m limit --limit 1/sec --limit-burst 5;-m limit --limit 1/sec;OK
-m limit --limit 10001/s;;FAIL
-m limit --limit 0/s;;FAIL
-m limit --limit -3/s;;FAIL
-m limit --limit 3/;;FAIL
-m limit --limit 3/minutes;;FAIL
-m limit --limit-burst 10001;;FAIL
-m limit ! --limit 3/s;;FAIL
-m limit --limit 1/s --limit 2/s;;FAIL
