#!/usr/bin/perl
# inject.pl - hostile SMTP sessions for the injection harness, with the truth.
#
#   inject.pl smtp postfix|exim|opensmtpd|sendmail MX-IP CLIENT-IP SEED SESSIONS TRUTH
#                                              talk to a real MTA
#   inject.pl offline SEED SESSIONS LOG TRUTH  write Postfix's lines
#
# Every slot a client controls is filled from the same generator: HELO,
# MAIL FROM (quoted and unquoted local parts), RCPT TO, header and body
# text, non-SMTP commands and illegal addresses. The strings imitate the
# shapes and messages of docs/EVENTS.md: Postfix's appended fields
# ("; from=<..> to=<..> proto= helo=<..>"), "host[ip]" of an innocent
# address (198.51.100.10, which never connects), reply categories, qmgr's
# "size= nrcpt=", warnings, long repeats that once exhausted the match limit.
#
# The truth is what the MTA's replies say happened, one JSON line per event:
# {"ip":..,"type":..,"to":..} (to only where the event has one). In smtp
# mode it is written from the replies the real MTA sent; in offline mode the
# log lines are written in the exact shapes Postfix 3.7 wrote them in the
# real runs (addresses in external form: a local part with specials is
# quoted; HELO with '?' for what Postfix will not log), for many clients.
# Perl (perl-base) only: no module outside the core.
use strict;
use warnings;

my $mode = shift // die "usage: inject.pl smtp|offline ...\n";
my $INNOCENT = '198.51.100.10';

# --- the generator ---------------------------------------------------------
my @frag = (
	'; from=<a@example.net> to=<postmaster@example.org> proto=ESMTP helo=<x',
	'> to=<postmaster@example.org> proto=ESMTP helo=<x', ' to=<postmaster@example.org>',
	'> helo=<a', ' proto=ESMTP', ' helo=<evil>', '>: Relay access denied', '>: Sender address rejected: x',
	'>: Recipient address rejected: User unknown in local recipient table', ': Client host rejected: x',
	"from unknown[$INNOCENT]", "unknown[$INNOCENT]", "from unknown[$INNOCENT]; from=<a\@b>",
	"[$INNOCENT]", "host.example[$INNOCENT]:25", "client=unknown[$INNOCENT]",
	"warning: Connection rate limit exceeded: 31 from unknown[$INNOCENT] for service smtp",
	', size=1, nrcpt=1 (queue active)', '>, size=1, nrcpt=1 (queue active)',
	"disconnect from unknown[$INNOCENT] ehlo=1 rcpt=0/99 commands=1/100",
	'Service unavailable; Client host [198.51.100.10] blocked using zen.example.test',
	' blocked using zen.example.test', 'status=bounced', ' (set_id=x)', ' H=[198.51.100.10]',
	# Exim, Sendmail and OpenSMTPD shapes
	"H=($INNOCENT) [$INNOCENT] F=<a\@b> rejected RCPT <c\@d>: Unrouteable address",
	# Exim's error lines quote the command: a quote of the client's, raw (4.96 writes it so) and backslashed
	"\" H=[$INNOCENT]:25 I=[$INNOCENT]:25 unrecognized command", "\\\" H=($INNOCENT) [$INNOCENT]:25 ",
	'> rejected RCPT <postmaster@example.com>: relay not permitted', " SMTP connection from [$INNOCENT] closed by QUIT",
	"ruleset=check_rcpt, arg1=<x\@y>, relay=[$INNOCENT], reject=550 5.1.1 <x\@y>... User unknown",
	', relay=[198.51.100.10]', '>... User unknown', ', nrcpts=1, relay=[198.51.100.10]',
	'" result="550 Invalid recipient: <x@example.com>"', '" result="250 2.0.0 Ok', ' result="421 ',
	'smtp failed-command command="RCPT TO:<a>"', "smtp connected address=$INNOCENT host=x",
	';', '>', '<', '"', '\\', ' ', ':', ',', '[', ']', '=', 'x', 'User unknown',
);

sub pick { $_[int(rand(@_))] }

# A hostile text of fragments; sometimes one fragment repeated many times.
sub hostile {
	my ($max) = @_;
	my $s = '';
	if (rand() < 0.15) {
		my $f = pick(@frag[0 .. 10]);
		$s = $f x int(($max * 0.8) / length($f));
	} else {
		$s .= pick(@frag) for 1 .. 1 + int(rand(5));
	}
	return substr($s, 0, $max);
}

# A local part that Postfix must quote (it holds a special), in external form.
my $NO_ESCAPES = 0;	# Exim: no backslash or quote inside the quotes (it logs those unlike it took them)
sub quoted_local {
	my $t = hostile(200);
	$t =~ tr/"\\//d if $NO_ESCAPES;
	$t .= ' <' unless $t =~ /[ <>;:,\[\]"\\@()]/;
	$t =~ s/([\\"])/\\$1/g;
	return "\"$t\"";
}

sub sender {
	my $r = rand();
	return '' if $r < 0.1;
	return 'plain' . int(rand(1000)) . '@evil.example' if $r < 0.3;
	return quoted_local() . '@evil.example';
}

# HELO: anything; Postfix logs '?' for what is not a letter, digit or one of - . _ [ ] : (as observed)
# (never empty: Postfix answers an empty EHLO with a syntax error and logs nothing)
my $HELO_REJECTED = 0;
my $AUTH = 0;		# the MTA offers AUTH PLAIN and refuses every password (Exim in the tests)	# Exim: every session's EHLO is one it rejects, so that its pid names the client
sub helo { $HELO_REJECTED ? 'h;' . hostile(300) : rand() < 0.2 ? 'mail.evil.example' : 'h' . hostile(300) }
sub postfix_helo { my $h = shift; $h =~ s/[^A-Za-z0-9._\-\[\]:=@]/?/g; return $h }

sub json_str {
	my $s = shift;
	$s =~ s/(["\\])/\\$1/g;
	$s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord($1))/ge;
	return "\"$s\"";
}

# truth FH IP TYPE [TO]: an event; TO given but undef: the event's to cannot be known (null)
sub truth {
	my ($fh, $ip, $type, @to) = @_;
	my $to = !@to ? '' : defined $to[0] ? ',"to":' . json_str($to[0]) : ',"to":null';
	print $fh "{\"ip\":\"$ip\",\"type\":\"$type\"$to}\n";
}

# The MTA's domains: unknown users live in $LOCAL (a mailbox $VALID exists), $RELAY is not ours.
my ($LOCAL, $VALID, $RELAY) = ('example.org', 'alice@example.org', 'example.net');

# One session's plan: a list of steps, each [kind, argument]. Every tenth
# session ends in a non-SMTP command of a fixed shape, by turns: a quote and
# an H= of the client's, and a backslash last (Exim 4.96 logs it as it
# came, so Exim's own quote follows the client's backslash and looks
# escaped, the client's does not); or OpenSMTPD's separator, " result=",
# twice, the first followed by no reply code.
my $SESSIONS = 0;
my @FIXED = ("GET /\" H=[$INNOCENT]:25 I=[$INNOCENT]:25 unrecognized command x\\",
	"GET /x\" result=\"2\" result=\"421 [$INNOCENT]");
sub plan {
	$SESSIONS++;
	my @steps = (['helo', helo()], ['mail', sender()]);
	for (1 .. 1 + int(rand(6))) {
		my $r = rand();
		if ($r < 0.6) { push @steps, ['rcpt', quoted_local() . "\@$LOCAL"] }		# unknown user
		elsif ($r < 0.7) { push @steps, ['rcpt', 'n' . int(rand(1e6)) . "\@$LOCAL"] }	# unquoted
		elsif ($r < 0.8) { push @steps, ['rcpt', quoted_local() . "\@$RELAY"] }	# relay
		elsif ($r < 0.9) { (my $h = hostile(120)) =~ tr/"\\<>:;,@()//d; push @steps, ['badrcpt', "<a b $h\@$LOCAL>"] }
		else { push @steps, ['data', hostile(400)] }
	}
	splice(@steps, 1, 0, ['auth', hostile(200)]) if $AUTH && rand() < 0.3;
	push @steps, $SESSIONS % 10 == 1 ? ['nonsmtp', $FIXED[($SESSIONS / 10) % 2]]
	    : rand() < 0.15 ? ['nonsmtp', 'GET /' . hostile(150)] : ['quit', ''];
	return @steps;
}

# --- smtp mode: a real MTA ---------------------------------------------------
# The truth comes from the replies, read the way each MTA words them:
#   Postfix: 550 5.1.1 unknown user, 454 4.7.1 relay, 501 bad address
#     (logged as "Illegal address syntax"), header_checks reject 550 5.7.1,
#     a non-SMTP command (GET) ends the session;
#   Exim: 501 to a hostile EHLO ("rejected EHLO"), 550 Unrouteable address,
#     550 relay not permitted, 501 bad address and 500 unknown command
#     (both "SMTP syntax error"), every message accepted.
if ($mode eq 'smtp') {
	require IO::Socket::INET;
	my ($mta, $mx, $me, $seed, $n, $truthf) = @ARGV;
	# Exim: a protocol error whose command holds an H= of its own is the
	# session's, known from an earlier line of the same pid (the rejected EHLO).
	($LOCAL, $VALID, $NO_ESCAPES, $HELO_REJECTED, $AUTH) = ('example.com', 'postmaster@example.com', 1, 1, 1)
	    if $mta eq 'exim';
	($LOCAL, $VALID) = ('example.com', 'postmaster@example.com') if $mta eq 'opensmtpd' || $mta eq 'sendmail';
	# Sendmail at LogLevel 9 logs no connection, no session end, no refused
	# HELO and no unknown command: only recipients, relaying and messages.
	my $sm = $mta eq 'sendmail';
	# The recipient as the MTA logs it: Exim cuts a command's argument at 100
	# bytes (a longer recipient is not in its log); OpenSMTPD and Sendmail double backslashes.
	my $logged = sub {
		my ($a, $unknown) = @_;
		return undef if $mta eq 'exim' && length($a) + 2 > 100;
		# (Sendmail logs a bare "User unknown" address of 201 bytes or more as its two ends and "...":
		# doubtful; it cuts first, then doubles the backslashes)
		return undef if $mta eq 'sendmail' && $unknown && length($a) >= 201;
		$a =~ s/\\/\\\\/g if $mta eq 'opensmtpd' || $mta eq 'sendmail';
		return $a;
	};
	srand($seed);
	open(my $tf, '>>', $truthf) or die "$truthf: $!\n";
	for my $sess (1 .. $n) {
		my $s = IO::Socket::INET->new(PeerAddr => $mx, PeerPort => 25, Timeout => 20)
		    or die "connect $mx: $!\n";
		my $read = sub {
			my $all = '';
			while (my $l = <$s>) { $all .= $l; last if $l =~ /^\d{3} / }
			return $all;
		};
		my $cmd = sub { print $s "$_[0]\r\n"; return $read->() };
		# QUIT, then our side closed before its reply is read: Exim waits up to
		# 200 ms after QUIT for the client to close first (120 sessions: 24 s)
		my $quit = sub { print $s "QUIT\r\n"; shutdown($s, 1); return $read->() };
		$read->() =~ /^220/ or die "no greeting\n";
		truth($tf, $me, 'connect') unless $sm;
		my $sender;
		for my $st (plan()) {
			my ($k, $a) = @$st;
			if ($k eq 'helo') {
				my $r = $cmd->("EHLO $a");
				next if $r =~ /^250/;
				$r =~ /^501 / && $mta ne 'postfix' or die "unexpected reply to EHLO $a: $r";
				truth($tf, $me, 'client_reject') unless $sm;
				$cmd->('EHLO client.example') =~ /^250/ or die "EHLO refused\n";
			} elsif ($k eq 'auth') {
				# PLAIN: authzid NUL user NUL password, base64 (MIME::Base64 is core Perl)
				require MIME::Base64;
				my $r = $cmd->('AUTH PLAIN ' . MIME::Base64::encode_base64("\0$a\0secret", ''));
				$r =~ /^535 / or die "unexpected reply to AUTH: $r";
				truth($tf, $me, 'auth_fail');
			} elsif ($k eq 'mail') {
				$sender = $a;
				my $r = $cmd->("MAIL FROM:<$a>");
				next if $r =~ /^250/;
				# OpenSMTPD takes no local part with specials: refused, then a plain sender
				$mta eq 'opensmtpd' && $r =~ /^5\d\d / or die "MAIL refused: <$a>: $r";
				truth($tf, $me, 'client_reject');
				$sender = 'plain@evil.example';
				$cmd->("MAIL FROM:<$sender>") =~ /^250/ or die "MAIL refused: <$sender>\n";
			}
			elsif ($k eq 'rcpt') {
				my $r = $cmd->("RCPT TO:<$a>");
				# (OpenSMTPD refuses a relay attempt as an invalid recipient)
				if ($r =~ /^550 (5\.1\.1 |Unrouteable address|Invalid recipient)/) {
					truth($tf, $me, 'rcpt_unknown', $logged->($a, 1));
				} elsif ($r =~ /^(454 4\.7\.1 .*Relay access denied|550 relay not permitted|4\d\d 4\.4\.0 .*Relaying)/) {
					truth($tf, $me, 'relay_denied', $logged->($a));
				} elsif ($mta eq 'opensmtpd' && $r =~ /^5/) {
					truth($tf, $me, 'rcpt_reject', $logged->($a));	# a local part it will not take
				} else { die "unexpected reply to RCPT TO:<$a>: $r" }
			} elsif ($k eq 'badrcpt') {
				my $r = $cmd->("RCPT TO:$a");
				# (Sendmail takes <a b ...@x> as an address: an unknown user)
				if ($sm && $r =~ /^550 5\.1\.1 /) { truth($tf, $me, 'rcpt_unknown', $logged->(substr($a, 1, -1), 1)); next }
				$r =~ /^50[01] |^553 / or die "unexpected reply to RCPT TO:$a: $r";
				# (OpenSMTPD: a refused RCPT whose address it cannot read back)
				$mta eq 'opensmtpd' ? truth($tf, $me, 'rcpt_reject', undef) : truth($tf, $me, 'protocol_error');
			} elsif ($k eq 'data') {
				$cmd->("RCPT TO:<$VALID>") =~ /^250/ or die "$VALID refused\n";
				$cmd->('DATA') =~ /^354/ or die "DATA refused\n";
				my $spam = $mta eq 'postfix' && rand() < 0.5;
				print $s "Subject: " . ($spam ? 'VIAGRA ' : '') . "$a\r\n\r\n" . "body $a\r\n.\r\n";
				my $r = $read->();
				if ($r =~ /^550 5\.7\.1/) { truth($tf, $me, 'msg_reject') }
				elsif ($r =~ /^250 /) { truth($tf, $me, $sender eq '' ? 'bounce_in' : 'msg_accepted') }
				else { die "unexpected reply to the message: $r" }
				# a new transaction for what follows
				$cmd->('RSET');
				$cmd->("MAIL FROM:<$sender>");
			} elsif ($k eq 'nonsmtp') {
				my $r = $cmd->($a);
				truth($tf, $me, 'protocol_error') unless $sm;
				if ($mta ne 'postfix') {
					$r =~ /^500 / or die "unexpected reply to $a: $r";
					$quit->();
				}
				truth($tf, $me, 'disconnect') unless $sm;
			} elsif ($k eq 'quit') {
				$quit->();
				truth($tf, $me, 'disconnect') unless $sm;
			}
		}
		close($s);
	}
	exit 0;
}

# --- offline mode: Postfix's lines, as the real daemon wrote them ---------------
if ($mode eq 'offline') {
	my ($seed, $n, $logf, $truthf) = @ARGV;
	srand($seed);
	open(my $lf, '>', $logf) or die "$logf: $!\n";
	open(my $tf, '>', $truthf) or die "$truthf: $!\n";
	my ($t, $pid, $qn) = (0, 1000, 0x10000);
	my $line = sub {
		my ($daemon, $text) = @_;
		my $s = $t++;
		printf $lf "Dec  6 %02d:%02d:%02d mx postfix/%s[%d]: %s\n", ($s / 3600) % 24, ($s / 60) % 60, $s % 60,
		    $daemon, $daemon eq 'smtpd' ? $pid : $pid + 1, $text;
	};
	for my $sess (1 .. $n) {
		my $ip = sprintf('203.0.113.%d', 2 + int(rand(250)));
		# (groups not zero: Postfix writes an address compressed, 2001:db8::1, never 2001:db8:0::1)
		$ip = sprintf('2001:db8:%x::%x', 1 + int(rand(65535)), 1 + int(rand(65535))) if rand() < 0.2;
		my $hip = "unknown[$ip]";
		$pid++;
		$line->('smtpd', "connect from $hip");
		truth($tf, $ip, 'connect');
		my ($h, $sender, $nrcpt, $bad) = (undef, undef, 0, 0);
		my $tail = sub {
			my $f = ';';
			$f .= " from=<$sender>" if defined $sender;
			$f .= " to=<$_[0]>" if defined $_[0];
			$f .= ' proto=ESMTP';
			$f .= ' helo=<' . postfix_helo($h) . '>' if defined $h;
			return $f;
		};
		for my $st (plan()) {
			my ($k, $a) = @$st;
			if ($k eq 'helo') { $h = $a }
			elsif ($k eq 'mail') { $sender = $a }
			elsif ($k eq 'rcpt') {
				(my $raw = $a) =~ s/^"((?:[^"\\]|\\.)*)"/my $q = $1; $q =~ s|\\(.)|$1|g; $q/e;
				$nrcpt++;
				if ($a =~ /\@example\.org$/) {
					$line->('smtpd', "NOQUEUE: reject: RCPT from $hip: 550 5.1.1 <$raw>: Recipient address rejected: "
					    . 'User unknown in virtual mailbox table' . $tail->($a));
					truth($tf, $ip, 'rcpt_unknown', $a);
				} else {
					$line->('smtpd', "NOQUEUE: reject: RCPT from $hip: 454 4.7.1 <$raw>: Relay access denied" . $tail->($a));
					truth($tf, $ip, 'relay_denied', $a);
				}
			} elsif ($k eq 'badrcpt') {
				$bad++;
				$line->('smtpd', "warning: Illegal address syntax from $hip in RCPT command: $a");
				truth($tf, $ip, 'protocol_error');
			} elsif ($k eq 'data') {
				my $qid = sprintf('%X', $qn++) . 'A';
				$nrcpt++;
				$line->('smtpd', "$qid: client=$hip");
				(my $text = $a) =~ s/[^\x20-\x7e]/?/g;
				if (rand() < 0.5) {
					$line->('cleanup', "$qid: reject: header Subject: VIAGRA $text from $hip" . $tail->('alice@example.org')
					    . ': 5.7.1 spam header');
					truth($tf, $ip, 'msg_reject');
				} else {
					$line->('cleanup', "$qid: message-id=<>");
					$line->('qmgr', "$qid: from=<$sender>, size=" . (200 + length($a)) . ', nrcpt=1 (queue active)');
					truth($tf, $ip, $sender eq '' ? 'bounce_in' : 'msg_accepted');
					$line->('qmgr', "$qid: removed");
				}
			} elsif ($k eq 'nonsmtp') {
				(my $c = substr($a, 0, 100)) =~ s/[^\x20-\x7e]/?/g;
				$line->('smtpd', "warning: non-SMTP command from $hip: $c");
				truth($tf, $ip, 'protocol_error');
				$line->('smtpd', "disconnect from $hip ehlo=1 mail=1 rcpt=0/$nrcpt commands=2/" . (3 + $nrcpt));
				truth($tf, $ip, 'disconnect');
			} elsif ($k eq 'quit') {
				$line->('smtpd', "disconnect from $hip ehlo=1 mail=1 rcpt=0/$nrcpt quit=1 commands=3/" . (3 + $nrcpt));
				truth($tf, $ip, 'disconnect');
			}
		}
	}
	exit 0;
}
die "inject.pl: unknown mode $mode\n";
