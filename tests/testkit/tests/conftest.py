from testkit import discord

# The Discord stand-in, one process per session (testkit's fixtures).
discord_standin_process = discord.discord_standin_process
standin = discord.standin
