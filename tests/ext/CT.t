# -j CT: raw table only (xt_CT.c). A helper needs -p naming its protocol (unless --notrack).
:PREROUTING,OUTPUT
*raw
-j CT;=;OK
-j CT --notrack;=;OK
-p tcp -j CT --helper ftp;=;OK
-p udp -j CT --helper tftp;=;OK
-p udp -j CT --helper sip;=;OK
-p tcp -j CT --helper sip;=;OK
-p tcp -j CT --helper Q.931;=;OK
-j CT --notrack --helper ftp;=;OK
-j CT --ctevents new,destroy;=;OK
-j CT --ctevents destroy,new,related,reply,assured,protoinfo,helper,mark,natseqinfo,secmark;-j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark;OK
-j CT --ctevents new,new;-j CT --ctevents new;OK
-j CT --expevents new;=;OK
-j CT --zone 5;=;OK
-j CT --zone 0;-j CT;OK
-j CT --zone 0x10;-j CT --zone 16;OK
-j CT --zone 65535;=;OK
-j CT --zone MARK;-j CT --zone mark;OK
-j CT --zone-orig 5;=;OK
-j CT --zone-reply mark;=;OK
-j CT --zone-orig 5 --zone-reply 6;-j CT --zone 6;OK
-j CT --zone mark --zone-orig 5;-j CT --zone-orig mark;OK
-j CT --zone 5 --ctevents new --notrack;-j CT --notrack --ctevents new --zone 5;OK
-j CT --helper ftp;;FAIL
-p udp -j CT --helper ftp;;FAIL
! -p tcp -j CT --helper ftp;;FAIL
-p tcp -j CT --helper FTP;;FAIL
-p tcp -j CT --helper nosuchhelper;;FAIL
-j CT --ctevents NEW;;FAIL
-j CT --ctevents new,;;FAIL
-j CT --expevents destroy;;FAIL
-j CT --zone 65536;;FAIL
-j CT --zone 5 --zone 6;;FAIL
-j CT --notrack --notrack;;FAIL
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j CT --notrack;;FAIL
:INPUT,FORWARD,OUTPUT
*filter
-j CT --notrack;;FAIL
