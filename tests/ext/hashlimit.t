# -m hashlimit (revision 3): save always has the burst (packet mode) and the name, unquoted;
# htable-expire is left out when it equals one unit of the rate; masks when they are 32.
# `!` turns upto into above and back. The kernel caps htable-size/-max at 1048576, and
# refuses a rate and burst whose product overflows its credit arithmetic (1/day with the
# default burst 5 is refused, with burst 1000 accepted). Each case has its own table name:
# rules sharing a name must agree on --hashlimit-rate-match.
:INPUT,FORWARD,OUTPUT
*filter
-m hashlimit --hashlimit-upto 10/sec --hashlimit-name fwb1;-m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-name fwb1;OK
-m hashlimit --hashlimit-upto 5/s --hashlimit-burst +7 --hashlimit-name fwb40;-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 7 --hashlimit-name fwb40;OK
-m hashlimit --hashlimit 5 --hashlimit-name fwb2;-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name fwb2;OK
-m hashlimit ! --hashlimit-upto 5/h --hashlimit-name fwb3;-m hashlimit --hashlimit-above 5/hour --hashlimit-burst 5 --hashlimit-name fwb3;OK
-m hashlimit ! --hashlimit-above 5/d --hashlimit-burst 7 --hashlimit-name fwb4;-m hashlimit --hashlimit-upto 5/day --hashlimit-burst 7 --hashlimit-name fwb4;OK
-m hashlimit --hashlimit-above 3/min --hashlimit-mode dstport,srcport,dstip,srcip --hashlimit-name fwb5;-m hashlimit --hashlimit-above 3/min --hashlimit-burst 5 --hashlimit-mode srcip,srcport,dstip,dstport --hashlimit-name fwb5;OK
-m hashlimit --hashlimit-upto 5/s --hashlimit-mode ,srcip|dstip, --hashlimit-name fwb6;-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-mode srcip,dstip --hashlimit-name fwb6;OK
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb7 --hashlimit-srcmask 24 --hashlimit-dstmask 255.255.0.0 --hashlimit-htable-size 1024 --hashlimit-htable-max 2048 --hashlimit-htable-gcinterval 500 --hashlimit-htable-expire 30000;-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name fwb7 --hashlimit-htable-size 1024 --hashlimit-htable-max 2048 --hashlimit-htable-gcinterval 500 --hashlimit-htable-expire 30000 --hashlimit-srcmask 24 --hashlimit-dstmask 16;OK
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb8 --hashlimit-htable-expire 1000 --hashlimit-htable-gcinterval 1000 --hashlimit-srcmask 32;-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name fwb8;OK
-m hashlimit --hashlimit-upto 5/min --hashlimit-name fwb9 --hashlimit-htable-expire 1000;-m hashlimit --hashlimit-upto 5/min --hashlimit-burst 5 --hashlimit-name fwb9 --hashlimit-htable-expire 1000;OK
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb10 --hashlimit-htable-size 2000000 --hashlimit-htable-max 3000000;-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name fwb10 --hashlimit-htable-size 1048576 --hashlimit-htable-max 1048576;OK
-m hashlimit --hashlimit-upto 1000000/s --hashlimit-burst 0x10 --hashlimit-name fwb11;-m hashlimit --hashlimit-upto 1000000/sec --hashlimit-burst 16 --hashlimit-name fwb11;OK
-m hashlimit --hashlimit-upto 5/s --hashlimit-burst 2k --hashlimit-name fwb12;-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 2048 --hashlimit-name fwb12;OK
-m hashlimit --hashlimit-upto 1/day --hashlimit-burst 1000 --hashlimit-name fwb13;=;OK
-m hashlimit --hashlimit-upto 1kb/s --hashlimit-name fwb14;=;OK
-m hashlimit --hashlimit-upto 1mb/s --hashlimit-burst 2mb --hashlimit-name fwb15;=;OK
-m hashlimit --hashlimit-above 512b/s --hashlimit-burst 1000 --hashlimit-name fwb16;-m hashlimit --hashlimit-above 512b/s --hashlimit-burst 1kb --hashlimit-name fwb16;OK
-m hashlimit --hashlimit-upto 100b/s --hashlimit-name fwb17 --hashlimit-rate-match;-m hashlimit --hashlimit-upto 96b/s --hashlimit-name fwb17 --hashlimit-rate-match;OK
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb18 --hashlimit-rate-match;-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name fwb18 --hashlimit-rate-match;OK
-m hashlimit --hashlimit-upto 5/min --hashlimit-name fwb19 --hashlimit-rate-match --hashlimit-rate-interval 10;-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name fwb19 --hashlimit-htable-expire 60000 --hashlimit-rate-match --hashlimit-rate-interval 10;OK
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb20 --hashlimit-rate-interval 3;-m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name fwb20;OK
-m hashlimit --hashlimit-upto 1/day --hashlimit-burst 1000000 --hashlimit-name fwb21;;FAIL
-m hashlimit --hashlimit-upto 1/day --hashlimit-name fwb22;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-burst 1000001 --hashlimit-name fwb23;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-burst 0 --hashlimit-name fwb24;;FAIL
-m hashlimit --hashlimit-upto 1000001/s --hashlimit-name fwb25;;FAIL
-m hashlimit --hashlimit-upto 1000000000kb/s --hashlimit-name fwb26;;FAIL
-m hashlimit --hashlimit-upto 1kb/s --hashlimit-burst 100 --hashlimit-name fwb27;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb28 --hashlimit-htable-expire 0;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb29 --hashlimit-htable-gcinterval 0;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb30 --hashlimit-srcmask 33;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb31 --hashlimit-dstmask 255.0.255.0;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb32 --hashlimit-mode none;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-name fwb33 --hashlimit-rate-interval 0;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-above 6/s --hashlimit-name fwb34;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit 6/s --hashlimit-name fwb35;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-name a/b;;FAIL
-m hashlimit --hashlimit-upto 5/s --hashlimit-name ..;;FAIL
-m hashlimit --hashlimit-upto 5/s;;FAIL
-m hashlimit --hashlimit-name fwb36;;FAIL
