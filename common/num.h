/*
 * num.h - decimal numbers: digits only, no sign, no locale, and an
 * overflow is an error rather than a wrap.  For environment variables,
 * /proc files and addresses.
 */
#ifndef FORKCHAT_NUM_H
#define FORKCHAT_NUM_H

int	num_parse(const char *, const char **, unsigned long long *);
int	num_whole(const char *, unsigned long long *);
long long num_env(const char *, long long);

#endif
