# -m length: MIN[:MAX], empty sides default to 0 and 65535; a reversed range is taken as written.
:INPUT,FORWARD,OUTPUT
-m length --length 100;=;OK
-m length ! --length 100:200;=;OK
-m length --length :50;-m length --length 0:50;OK
-m length --length 1000:;-m length --length 1000:65535;OK
-m length --length :;-m length --length 0:65535;OK
-m length --length 4:4;-m length --length 4;OK
-m length --length 200:100;=;OK
-m length --length 0x10:020;-m length --length 16;OK
-m length --length +5;-m length --length 5;OK
-m length --length "";-m length --length 0;OK
-m length --length 65535;=;OK
-m length --length 65536;;FAIL
-m length --length -5;;FAIL
-m length --length 5x;;FAIL
-m length --length 08;;FAIL
-m length --length 1:2:3;;FAIL
-m length --length 1 --length 2;;FAIL
-m length;;FAIL
