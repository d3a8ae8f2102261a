// SPDX-License-Identifier: GPL-2.0
/* Locks taken killably (rust/kernel/mutex.rs, rust/kernel/rwsem.rs). */
#include <linux/mutex.h>
#include <linux/rwsem.h>

#include "helpers.h"

/* The class comes from the Rust caller, one per lock of an object. */
void gm_mutex_init(struct mutex *lock, const char *name,
		   struct lock_class_key *key)
{
	__mutex_init(lock, name, key);
}

void gm_mutex_lock(struct mutex *lock)
{
	mutex_lock(lock);
}

int gm_mutex_lock_killable(struct mutex *lock)
{
	return mutex_lock_killable(lock);
}

void gm_mutex_unlock(struct mutex *lock)
{
	mutex_unlock(lock);
}

void gm_init_rwsem(struct rw_semaphore *sem, const char *name,
		   struct lock_class_key *key)
{
	__init_rwsem(sem, name, key);
}

int gm_down_read_killable(struct rw_semaphore *sem)
{
	return down_read_killable(sem);
}

void gm_up_read(struct rw_semaphore *sem)
{
	up_read(sem);
}

int gm_down_write_killable(struct rw_semaphore *sem)
{
	return down_write_killable(sem);
}

void gm_down_write(struct rw_semaphore *sem)
{
	down_write(sem);
}

void gm_up_write(struct rw_semaphore *sem)
{
	up_write(sem);
}
