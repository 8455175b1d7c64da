# -m statistic: the probability is kept as a 31-bit fraction and printed with 11 decimals
# (0.33333333333 becomes 0.33333333349); --packet is always saved in nth mode.
:INPUT,FORWARD,OUTPUT
*filter
-m statistic --mode random --probability 0.5;-m statistic --mode random --probability 0.50000000000;OK
-m statistic --mode random --probability 0.33333333333;-m statistic --mode random --probability 0.33333333349;OK
-m statistic --mode random ! --probability 0.25;-m statistic --mode random ! --probability 0.25000000000;OK
-m statistic --mode random --probability 0;-m statistic --mode random --probability 0.00000000000;OK
-m statistic --mode random --probability 1;-m statistic --mode random --probability 1.00000000000;OK
-m statistic --mode random --probability 1e-3;-m statistic --mode random --probability 0.00100000016;OK
-m statistic --mode random --probability 0.000244140625;-m statistic --mode random --probability 0.00024414062;OK
-m statistic --mode random --probability 0x1p-2;-m statistic --mode random --probability 0.25000000000;OK
-m statistic --mode random --probability 1.1;;FAIL
-m statistic --mode random --probability -0.1;;FAIL
-m statistic --mode random;;FAIL
-m statistic ! --mode random --probability 0.5;;FAIL
-m statistic --mode random --probability 0.1 --probability 0.2;;FAIL
-m statistic --probability 0.5;;FAIL
-m statistic --mode coin;;FAIL
-m statistic --mode nth --every 3 --packet 0;=;OK
-m statistic --mode nth ! --every 3 --packet 2;=;OK
-m statistic --mode nth --every 1 --packet 0;=;OK
-m statistic --mode nth --every 4294967295 --packet 4294967294;=;OK
-m statistic --mode nth --every 3;;FAIL
-m statistic --mode nth --packet 1;;FAIL
-m statistic --mode nth --every 3 --packet 3;;FAIL
-m statistic --mode nth --every 0 --packet 0;;FAIL
-m statistic --mode nth --every 3 ! --packet 1;;FAIL
-m statistic --mode nth --every 3 --packet 1 --probability 0.5;;FAIL
-m statistic --mode random --every 3 --packet 1;;FAIL
