/*
 * reload.h - SIGHUP: build the configuration anew and apply it to the
 * master, its workers and the forker, or keep the old one.
 */
#ifndef FORKCHAT_RELOAD_H
#define FORKCHAT_RELOAD_H

void	 reload_run(void);

#endif
