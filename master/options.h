/*
 * options.h - the command line (options.c).
 */
#ifndef FORKCHAT_OPTIONS_H
#define FORKCHAT_OPTIONS_H

void	options_parse(int, char **);

#endif
