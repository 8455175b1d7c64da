# -m policy: IPsec policy of the packet (libxt_policy.c, xt_policy.c)
:INPUT,FORWARD
-m policy --dir in --pol none;=;OK
-m policy --dir in --pol ipsec;=;OK
# --pol ipsec is the default and always saved
-m policy --dir in;-m policy --dir in --pol ipsec;OK
-m policy --dir in --pol ipsec --strict --reqid 1 --spi 0x100 --proto esp --mode tunnel --tunnel-src 1.2.3.4 --tunnel-dst 10.0.0.0/8;-m policy --dir in --pol ipsec --strict --reqid 1 --spi 0x100 --proto esp --mode tunnel --tunnel-dst 10.0.0.0/8 --tunnel-src 1.2.3.4;OK
# --spi prints in hex, --proto by name (also in iptables-save)
-m policy --dir in --pol ipsec ! --reqid 1 ! --spi 256 ! --proto 51 ! --mode transport;-m policy --dir in --pol ipsec ! --reqid 1 ! --spi 0x100 ! --proto ah ! --mode transport;OK
-m policy --dir in --pol ipsec --reqid 4294967295 --spi 4294967295 --proto ipcomp;-m policy --dir in --pol ipsec --reqid 4294967295 --spi 0xffffffff --proto ipcomp;OK
-m policy --dir in --pol ipsec --strict --reqid 1 --next --spi 2 --next --proto esp --next --mode tunnel;-m policy --dir in --pol ipsec --strict --reqid 1 --next --spi 0x2 --next --proto esp --next --mode tunnel;OK
# tunnel addresses: not masked, read by getaddrinfo (inet_aton forms), masks that are no prefix become /32
-m policy --dir in --pol ipsec ! --mode transport ! --tunnel-src 1.2.3.4/24;=;OK
-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3 --tunnel-dst 0x7f.1;-m policy --dir in --pol ipsec --mode tunnel --tunnel-dst 127.0.0.1 --tunnel-src 1.2.0.3;OK
-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3.4/255.255.0.0;-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3.4/16;OK
-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3.4/255.0.255.0;-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3.4;OK
-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3.4/64;-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3.4;OK
-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3.4/0;=;OK
# with --pol none the element options are accepted and dropped
-m policy --dir in --pol none --reqid 1;-m policy --dir in --pol none;OK
-m policy --pol ipsec;;FAIL
-m policy --dir In;;FAIL
-m policy --dir in --dir in;;FAIL
-m policy --dir in --pol none --pol none;;FAIL
-m policy --dir in --pol none --strict;;FAIL
-m policy --dir in --pol ipsec --proto tcp;;FAIL
-m policy --dir in --pol ipsec --proto ESP;;FAIL
-m policy --dir in --pol ipsec --mode Tunnel;;FAIL
-m policy --dir in --pol ipsec --reqid 1 --reqid 2;;FAIL
-m policy --dir in --pol ipsec --reqid 4294967296;;FAIL
-m policy --dir in --pol ipsec --tunnel-src 1.2.3.4;;FAIL
-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3.256;;FAIL
-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3.4/09;;FAIL
-m policy --dir in --pol ipsec --reqid 1 --next --spi 2;;FAIL
-m policy --dir in --pol ipsec --strict;;FAIL
-m policy --dir in --pol ipsec --strict --reqid 1 --next;;FAIL
-m policy --dir in --pol ipsec --strict --reqid 1 --next --spi 2 --next --proto esp --next --mode tunnel --next --reqid 5;;FAIL
# the inbound policy is known only on the way in, the outbound one only on the way out
:OUTPUT
-m policy --dir out --pol ipsec;=;OK
-m policy --dir in --pol ipsec;;FAIL
:INPUT
-m policy --dir out --pol ipsec;;FAIL
*mangle
:FORWARD,OUTPUT,POSTROUTING
-m policy --dir out --pol none;=;OK
:PREROUTING,INPUT
-m policy --dir out --pol none;;FAIL
