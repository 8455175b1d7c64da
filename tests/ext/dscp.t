# -m dscp: --dscp 0..63 or --dscp-class (matched on the class name's length: EFx is EF).
:INPUT,FORWARD,OUTPUT
-m dscp --dscp 0x10;=;OK
-m dscp ! --dscp 10;-m dscp ! --dscp 0x0a;OK
-m dscp --dscp 077;-m dscp --dscp 0x3f;OK
-m dscp --dscp 0;-m dscp --dscp 0x00;OK
-m dscp --dscp-class EF;-m dscp --dscp 0x2e;OK
-m dscp --dscp-class af41;-m dscp --dscp 0x22;OK
-m dscp ! --dscp-class CS0;-m dscp ! --dscp 0x00;OK
-m dscp --dscp-class be;-m dscp --dscp 0x00;OK
-m dscp --dscp-class CS7;-m dscp --dscp 0x38;OK
-m dscp --dscp-class EFx;-m dscp --dscp 0x2e;OK
-m dscp --dscp 64;;FAIL
-m dscp --dscp 08;;FAIL
-m dscp --dscp a;;FAIL
-m dscp --dscp-class AF4;;FAIL
-m dscp --dscp-class XX;;FAIL
-m dscp --dscp 1 --dscp-class EF;;FAIL
-m dscp --dscp 1 --dscp 2;;FAIL
-m dscp;;FAIL
