# -j NFQUEUE: any table and hook (xt_NFQUEUE.c). There is no --fail-open option.
:INPUT,FORWARD,OUTPUT
*filter
-j NFQUEUE;-j NFQUEUE --queue-num 0;OK
-j NFQUEUE --queue-num 0;=;OK
-j NFQUEUE --queue-num 65535;=;OK
-j NFQUEUE --queue-num 0x10;-j NFQUEUE --queue-num 16;OK
-j NFQUEUE --queue-balance 2:5;=;OK
-j NFQUEUE --queue-balance :5;-j NFQUEUE --queue-balance 0:5;OK
-j NFQUEUE --queue-balance 2:;-j NFQUEUE --queue-balance 2:65535;OK
-j NFQUEUE --queue-balance 0:65534;=;OK
-j NFQUEUE --queue-bypass;-j NFQUEUE --queue-num 0 --queue-bypass;OK
-j NFQUEUE --queue-num 3 --queue-bypass;=;OK
-j NFQUEUE --queue-balance 2:5 --queue-cpu-fanout --queue-bypass;-j NFQUEUE --queue-balance 2:5 --queue-bypass --queue-cpu-fanout;OK
-j NFQUEUE --queue-num 65536;;FAIL
-j NFQUEUE --queue-num -1;;FAIL
-j NFQUEUE --queue-balance 2:2;;FAIL
-j NFQUEUE --queue-balance 5:2;;FAIL
-j NFQUEUE --queue-balance 2;;FAIL
-j NFQUEUE --queue-balance 2-5;;FAIL
-j NFQUEUE --queue-balance 1:2:3;;FAIL
-j NFQUEUE --queue-balance 1:70000;;FAIL
-j NFQUEUE --queue-balance 0:65535;;FAIL
-j NFQUEUE --queue-num 1 --queue-balance 2:5;;FAIL
-j NFQUEUE --queue-num 3 --queue-cpu-fanout;;FAIL
-j NFQUEUE --queue-num 3 --queue-num 4;;FAIL
-j NFQUEUE --queue-bypass --queue-bypass;;FAIL
-j NFQUEUE --fail-open;;FAIL
:PREROUTING,INPUT,OUTPUT,POSTROUTING
*nat
-j NFQUEUE --queue-num 3;=;OK
