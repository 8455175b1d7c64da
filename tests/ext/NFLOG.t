# NFLOG: any table, any hook. iptables-nft stores it as the nft `log group` expression, which
# has no room for --nflog-range (dropped) and keeps a prefix of up to 127 bytes (not 63).
:INPUT,FORWARD,OUTPUT
*filter
-j NFLOG;=;OK
-j NFLOG --nflog-group 1;=;OK
-j NFLOG --nflog-group 65535;=;OK
-j NFLOG --nflog-group 0;-j NFLOG;OK
-j NFLOG --nflog-group 65536;;FAIL
-j NFLOG --nflog-group 1 --nflog-group 2;;FAIL
-j NFLOG --nflog-prefix xyz;=;OK
-j NFLOG --nflog-prefix "a b";=;OK
-j NFLOG --nflog-prefix ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp;=;OK
-j NFLOG --nflog-prefix pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp;-j NFLOG --nflog-prefix ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp;OK
-j NFLOG --nflog-prefix "";;FAIL
-j NFLOG --nflog-size 0;=;OK
-j NFLOG --nflog-size 4294967295;=;OK
-j NFLOG --nflog-size 4294967296;;FAIL
-j NFLOG --nflog-range 100;-j NFLOG;OK
-j NFLOG --nflog-range 1 --nflog-size 2;;FAIL
-j NFLOG --nflog-threshold 1;=;OK
-j NFLOG --nflog-threshold 0;-j NFLOG;OK
-j NFLOG --nflog-threshold 65536;;FAIL
-j NFLOG --nflog-threshold 10 --nflog-size 64 --nflog-group 2 --nflog-prefix p;-j NFLOG --nflog-prefix p --nflog-group 2 --nflog-size 64 --nflog-threshold 10;OK
-j NFLOG ! --nflog-group 1;;FAIL
:PREROUTING,OUTPUT
*raw
-j NFLOG --nflog-group 3;=;OK
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j NFLOG --nflog-group 4;=;OK
