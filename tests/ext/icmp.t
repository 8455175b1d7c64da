# -m icmp: names (unique prefixes, any case) and type[/code[:code]]; save keeps only the first
# code of a range and says "any" for type 255 whatever the codes.
:INPUT,FORWARD,OUTPUT
-p icmp -m icmp --icmp-type 8;=;OK
-p icmp -m icmp --icmp-type echo-request;-p icmp -m icmp --icmp-type 8;OK
-p icmp -m icmp --icmp-type ping;-p icmp -m icmp --icmp-type 8;OK
-p icmp -m icmp --icmp-type ECHO-REQ;-p icmp -m icmp --icmp-type 8;OK
-p icmp -m icmp --icmp-type Tos-host-redirect;-p icmp -m icmp --icmp-type 5/3;OK
-p icmp -m icmp --icmp-type ttl-e;-p icmp -m icmp --icmp-type 11;OK
-p icmp -m icmp --icmp-type echo;;FAIL
-p icmp -m icmp --icmp-type ttl-zero-during;;FAIL
-p icmp -m icmp --icmp-type "";;FAIL
-p icmp -m icmp --icmp-type 3/1;=;OK
-p icmp -m icmp ! --icmp-type echo-reply;-p icmp -m icmp ! --icmp-type 0;OK
-p icmp -m icmp ! --icmp-type 8/0;=;OK
-p icmp -m icmp --icmp-type 0x8;-p icmp -m icmp --icmp-type 8;OK
-p icmp -m icmp --icmp-type 010;-p icmp -m icmp --icmp-type 8;OK
-p icmp -m icmp --icmp-type 3/+1;-p icmp -m icmp --icmp-type 3/1;OK
-p icmp -m icmp --icmp-type any;=;OK
-p icmp -m icmp ! --icmp-type any;=;OK
-p icmp -m icmp --icmp-type 255;-p icmp -m icmp --icmp-type any;OK
-p icmp -m icmp --icmp-type 255/0;-p icmp -m icmp --icmp-type any;OK
-p icmp -m icmp --icmp-type 8/0:3;-p icmp -m icmp --icmp-type 8/0;OK
-p icmp -m icmp --icmp-type 3/0:255;-p icmp -m icmp --icmp-type 3;OK
-p icmp -m icmp --icmp-type 3/5:3;-p icmp -m icmp --icmp-type 3/5;OK
-p icmp -m icmp --icmp-type 256;;FAIL
-p icmp -m icmp --icmp-type 8/256;;FAIL
-p icmp -m icmp --icmp-type 8:9;;FAIL
-p icmp -m icmp --icmp-type 8-9;;FAIL
-p icmp -m icmp --icmp-type 8/;;FAIL
-p icmp -m icmp --icmp-type 8/1:;;FAIL
-p icmp -m icmp --icmp-type 8x;;FAIL
-p icmp -m icmp;;FAIL
-p icmp -m icmp --icmp-type 8 --icmp-type 0;;FAIL
-m icmp --icmp-type 8;;FAIL
-p tcp -m icmp --icmp-type 8;;FAIL
! -p icmp -m icmp --icmp-type 8;;FAIL
