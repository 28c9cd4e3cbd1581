#!/usr/bin/env node
'use strict';
require('../dist/lib/cli/ros-deploy-main.js');
