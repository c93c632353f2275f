set terminal pngcairo size 900,560 noenhanced
set output '/tmp/bench-now/ratio.png'
set title 'one-way A->B, one switch core, 2026-11-24'
set xlabel 'frame size (bytes, no FCS)'
set ylabel 'ratio to the limit (same round)'
set logscale x 2
set xtics (64, 1518)
set xrange [54.4:1745.6999999999998]
set yrange [0:*]
set grid
set key outside right
plot '/tmp/bench-now/ratio.dat' using 1:2:3:4 with yerrorlines title 'limit' lw 2, '/tmp/bench-now/ratio.dat' using 1:5:6:7 with yerrorlines title 'ovs-normal' lw 2, '/tmp/bench-now/ratio.dat' using 1:8:9:10 with yerrorlines title 'portico-vm2vm' lw 2
