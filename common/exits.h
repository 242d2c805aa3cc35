/*
 * exits.h - the exit statuses of forkchatd's processes: the master, the
 * forker and the workers, one list so that a status means the same
 * whoever leaves with it (forkchatd(8), EXIT STATUS, lists the master's).
 *
 * Past 2 the numbers are <sysexits.h>'s where the meaning is the same;
 * EX_USAGE is not (2 here, 64 there), so a file includes one or the
 * other, never both (the compiler says so if one tries).
 */
#ifndef FORKCHAT_EXITS_H
#define FORKCHAT_EXITS_H

#define EX_OK		0	/* a clean shutdown; -h, -V, -t that passed */
#define EX_FAIL		1	/* any other failure, said in the log */
#define EX_USAGE	2	/* an unknown option, an extra argument */
#define EX_SOFTWARE	70	/* a broken protocol or invariant: a bug */
#define EX_NOSTART	71	/* the forker or a worker could not start */
#define EX_CONFIG	78	/* the configuration is wrong */

#endif
