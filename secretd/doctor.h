/*
 * doctor.h - "secretd doctor" (doctor.c): check a deployment, one line
 * per check, each problem named with its fix.
 */
#ifndef SECRETD_DOCTOR_H
#define SECRETD_DOCTOR_H

/* argv[0] is "doctor"; conf is the -c path.  Returns the exit status:
 * 0 healthy, 1 a check failed, 2 usage. */
int	doctor_main(const char *conf, int argc, char **argv);

#endif
