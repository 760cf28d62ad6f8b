#!/bin/sh
exec profiles-dep
