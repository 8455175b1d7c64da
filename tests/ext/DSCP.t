# DSCP: mangle table only, any hook. Saved as the number, in hex.
:PREROUTING,INPUT,FORWARD,OUTPUT,POSTROUTING
*mangle
-j DSCP --set-dscp 0;-j DSCP --set-dscp 0x00;OK
-j DSCP --set-dscp 1;-j DSCP --set-dscp 0x01;OK
-j DSCP --set-dscp +3;-j DSCP --set-dscp 0x03;OK
-j DSCP --set-dscp 010;-j DSCP --set-dscp 0x08;OK
-j DSCP --set-dscp 0x3f;=;OK
-j DSCP --set-dscp 64;;FAIL
-j DSCP --set-dscp x;;FAIL
-j DSCP --set-dscp-class EF;-j DSCP --set-dscp 0x2e;OK
-j DSCP --set-dscp-class ef;-j DSCP --set-dscp 0x2e;OK
-j DSCP --set-dscp-class BE;-j DSCP --set-dscp 0x00;OK
-j DSCP --set-dscp-class CS0;-j DSCP --set-dscp 0x00;OK
-j DSCP --set-dscp-class CS7;-j DSCP --set-dscp 0x38;OK
-j DSCP --set-dscp-class AF11;-j DSCP --set-dscp 0x0a;OK
-j DSCP --set-dscp-class af43;-j DSCP --set-dscp 0x26;OK
# class_to_dscp compares only the length of the known name: trailing text is ignored.
-j DSCP --set-dscp-class EFX;-j DSCP --set-dscp 0x2e;OK
-j DSCP --set-dscp-class AF111;-j DSCP --set-dscp 0x0a;OK
-j DSCP --set-dscp-class CS8;;FAIL
-j DSCP --set-dscp-class LE;;FAIL
-j DSCP --set-dscp-class cs;;FAIL
-j DSCP;;FAIL
-j DSCP --set-dscp 1 --set-dscp-class EF;;FAIL
-j DSCP --set-dscp 1 --set-dscp 2;;FAIL
-j DSCP ! --set-dscp 1;;FAIL
:INPUT,FORWARD,OUTPUT
*filter
-j DSCP --set-dscp 1;;FAIL
