# The fixed part of every rule: addresses, interfaces, protocol, fragments, verdicts.
:INPUT,FORWARD,OUTPUT
-s 1.2.3.4;-s 1.2.3.4/32;OK
-s 1.2.3.4/32 -j ACCEPT;=;OK
! -s 10.0.0.0/8 -d 192.168.0.0/16;=;OK
-s 35.126.36.215/24;-s 35.126.36.0/24;OK
-d 10.0.0.0/255.0.255.0;=;OK
-s 0.0.0.0/0;;OK
# iptables-nft refuses a negated zero-length prefix (legacy accepts it).
! -s 0.0.0.0/0;;FAIL
! -d 0.0.0.0/0;;FAIL
--src 10.0.0.1 --dst 10.0.0.2;-s 10.0.0.1/32 -d 10.0.0.2/32;OK
-s 1.2.3.4/33;;FAIL
# Address parts and prefix lengths are C numbers (xtables_strtoui): octal, hex, and "+".
-s 010.1.1.1;-s 8.1.1.1/32;OK
-s 0x0a.1.1.1;-s 10.1.1.1/32;OK
-d 1.2.3;-d 1.2.3.0/32;OK
-s 10.0.0.0/010;-s 10.0.0.0/8;OK
-s 10.0.0.0/+8;-s 10.0.0.0/8;OK
-s 256.1.1.1;;FAIL
-s ! 1.2.3.4;;FAIL
-s 1.2.3.4 -s 1.2.3.5;;FAIL
-s example.invalid;;FAIL
-p tcp;=;OK
-p TCP;-p tcp;OK
-p 6;-p tcp;OK
! -p udp;=;OK
-p 47;-p gre;OK
-p icmpv6;-p ipv6-icmp;OK
-p all;;OK
-p 0;;OK
! -p all;;FAIL
-p nosuchproto;;FAIL
-f;=;OK
! -f;=;OK
-j DROP;=;OK
-j RETURN;=;OK
-j ACCEPT -p tcp;-p tcp -j ACCEPT;OK
-j NOSUCHCHAIN;;FAIL
-g ACCEPT;;FAIL
-j ACCEPT -j DROP;;FAIL
! -j ACCEPT;;FAIL
-m nosuchmatch;;FAIL
--nosuchoption 1;;FAIL
-j MIRROR;;FAIL
-j ULOG;;FAIL
-j SAME --to 1.2.3.4;;FAIL
! ! -s 1.2.3.4;;FAIL
-s 1.2.3.4 !;;FAIL
:FORWARD
-i eth0 -o eth1;=;OK
! -i eth+ ! -o br-+;=;OK
-i abcdefghijklmno;=;OK
-i abcdefghijklmnop;;FAIL
--in-interface eth0 --out-interface eth1;-i eth0 -o eth1;OK
:INPUT
-o eth0;;FAIL
:OUTPUT
-i eth0;;FAIL
