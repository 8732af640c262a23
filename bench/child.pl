# The benchmark's child, the same for every contender. Its first act: append "name pid
# CLOCK_MONOTONIC-ns" to the report file. Then sleep for ever ("sleep") or exit 1 at once ("crash").
use strict;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);
my ($report, $name, $mode) = @ARGV;
open(my $f, ">>", $report) or die "cannot open $report: $!";
printf $f "%s %d %.0f\n", $name, $$, clock_gettime(CLOCK_MONOTONIC) * 1e9;
close $f;
exit 1 if ($mode // "") eq "crash";
sleep;
