# -m conntrack (revision 3). Printing order is fixed: ctstate, ctproto, the four addresses,
# the four ports, ctstatus, ctexpire, ctdir. Addresses keep their host bits; a mask that is
# no prefix (or a length above 32, read as the address 0.0.0.33) becomes /32.
:INPUT,FORWARD,OUTPUT
*filter
-m conntrack --ctstate NEW;=;OK
-m conntrack --ctstate NEW,INVALID,UNTRACKED,SNAT,DNAT;-m conntrack --ctstate INVALID,NEW,UNTRACKED,SNAT,DNAT;OK
-m conntrack --ctstate est,rel,n,s,d,u,i;-m conntrack --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT;OK
-m conntrack ! --ctstate RELATED,ESTABLISHED;=;OK
-m conntrack --ctstate NEW,;;FAIL
-m conntrack --ctstate ,NEW;;FAIL
-m conntrack --ctstate BOGUS;;FAIL
-m conntrack --ctproto tcp;-m conntrack --ctproto 6;OK
-m conntrack ! --ctproto udp;-m conntrack ! --ctproto 17;OK
-m conntrack ! --ctproto all;-m conntrack ! --ctproto 0;OK
-m conntrack --ctproto 256;;FAIL
-m conntrack --ctproto +6;-m conntrack --ctproto 6;OK
-m conntrack --ctorigsrcport -0;-m conntrack --ctorigsrcport 0;OK
-m conntrack --ctorigsrc 10.0.0.1 ! --ctorigdst 10.0.0.0/8 --ctreplsrc 192.168.1.7/24 ! --ctrepldst 0.0.0.0/0;-m conntrack --ctorigsrc 10.0.0.1 ! --ctorigdst 10.0.0.0/8 --ctreplsrc 192.168.1.7/24 ! --ctrepldst 0.0.0.0/0;OK
-m conntrack --ctorigsrc 1.2.3.4/255.255.0.0 --ctorigdst 1.2.3.4/255.0.255.0 --ctreplsrc 1.2.3.4/33 --ctrepldst 1.2.3;-m conntrack --ctorigsrc 1.2.3.4/16 --ctorigdst 1.2.3.4 --ctreplsrc 1.2.3.4 --ctrepldst 1.2.0.3;OK
-m conntrack --ctorigsrc 127.0.0.1 --ctorigdst 0.0.0.0/8;=;OK
-m conntrack --ctorigsrc 1.2.3.4.5;;FAIL
-m conntrack --ctorigsrc 1.2.3.4/-1;;FAIL
-m conntrack --ctorigsrc 1.1.1.1 --ctorigsrc 2.2.2.2;;FAIL
-m conntrack --ctorigsrcport 22 ! --ctorigdstport 1000:2000 --ctreplsrcport 80: --ctrepldstport :1024;-m conntrack --ctorigsrcport 22 ! --ctorigdstport 1000:2000 --ctreplsrcport 80:65535 --ctrepldstport 0:1024;OK
-m conntrack --ctorigsrcport ssh:http --ctorigdstport 5:0 --ctreplsrcport 2000:1000 --ctrepldstport 65536;-m conntrack --ctorigsrcport 22:80 --ctorigdstport 5 --ctreplsrcport 2000:1000 --ctrepldstport 0;OK
-m conntrack --ctorigsrcport 1:2:3;;FAIL
-m conntrack --ctorigsrcport 0x16;;FAIL
-m conntrack --ctstatus ASSURED,EXPECTED,seen_reply,confirmed;-m conntrack --ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED;OK
-m conntrack ! --ctstatus NONE;=;OK
-m conntrack --ctstatus none,a;-m conntrack --ctstatus ASSURED;OK
-m conntrack --ctstatus FOO;;FAIL
-m conntrack --ctexpire 5;=;OK
-m conntrack ! --ctexpire 10:20;=;OK
-m conntrack --ctexpire 10:;-m conntrack --ctexpire 10:4294967295;OK
-m conntrack --ctexpire 20:0x10;-m conntrack --ctexpire 20:16;OK
-m conntrack --ctexpire 4294967296;;FAIL
-m conntrack --ctexpire 1:2:3;;FAIL
-m conntrack --ctdir original;-m conntrack --ctdir ORIGINAL;OK
-m conntrack --ctdir REPLY;=;OK
-m conntrack ! --ctdir REPLY;;FAIL
-m conntrack --ctdir SIDEWAYS;;FAIL
-m conntrack --ctdir REPLY --ctstatus SEEN_REPLY --ctstate NEW --ctproto 132;-m conntrack --ctstate NEW --ctproto 132 --ctstatus SEEN_REPLY --ctdir REPLY;OK
-m conntrack;;FAIL
