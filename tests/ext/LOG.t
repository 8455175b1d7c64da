# LOG: any table, any hook (xt_LOG registers without .table or .hooks).
# iptables-nft turns it into the nft `log` expression and back; the level is saved as a number
# and only when it is not the default (4, warning).
:INPUT,FORWARD,OUTPUT
*filter
-j LOG;=;OK
-j LOG --log-level 4;-j LOG;OK
-j LOG --log-level warning;-j LOG;OK
-j LOG --log-level emerg;-j LOG --log-level 0;OK
-j LOG --log-level panic;-j LOG --log-level 0;OK
-j LOG --log-level alert;-j LOG --log-level 1;OK
-j LOG --log-level crit;-j LOG --log-level 2;OK
-j LOG --log-level error;-j LOG --log-level 3;OK
-j LOG --log-level notice;-j LOG --log-level 5;OK
-j LOG --log-level info;-j LOG --log-level 6;OK
-j LOG --log-level debug;-j LOG --log-level 7;OK
-j LOG --log-level 0x7;-j LOG --log-level 7;OK
-j LOG --log-level 06;-j LOG --log-level 6;OK
# Only xtables' own name table counts: syslog's "err" and "warn" are unknown, names are
# case-sensitive, and numbers stop at 7.
-j LOG --log-level err;;FAIL
-j LOG --log-level warn;;FAIL
-j LOG --log-level WARNING;;FAIL
-j LOG --log-level 8;;FAIL
-j LOG --log-level 1 --log-level 2;;FAIL
-j LOG --log-prefix "in: ";=;OK
-j LOG --log-prefix abc;=;OK
-j LOG --log-prefix "it's";-j LOG --log-prefix "it\'s";OK
-j LOG --log-prefix "a\"b";=;OK
-j LOG --log-prefix 12345678901234567890123456789;=;OK
# Longer prefixes are cut to the 29 bytes xt_log_info holds, silently.
-j LOG --log-prefix 123456789012345678901234567890;-j LOG --log-prefix 12345678901234567890123456789;OK
-j LOG --log-prefix "";;FAIL
-j LOG --log-tcp-sequence;=;OK
-j LOG --log-tcp-options;=;OK
-j LOG --log-ip-options;=;OK
-j LOG --log-uid;=;OK
-j LOG --log-macdecode;=;OK
-j LOG --log-macdecode --log-uid --log-ip-options --log-tcp-options --log-tcp-sequence --log-level debug --log-prefix "x: ";-j LOG --log-prefix "x: " --log-level 7 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode;OK
-j LOG --log-uid --log-uid;;FAIL
-j LOG ! --log-uid;;FAIL
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j LOG --log-level 1 --log-ip-options;=;OK
:PREROUTING,INPUT,OUTPUT,POSTROUTING
*nat
-j LOG --log-prefix nat;=;OK
:PREROUTING,OUTPUT
*raw
-j LOG --log-prefix raw;=;OK
